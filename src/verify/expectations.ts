// What a lab must show, per mode: the pods and their pairs, the encapsulation on the wire. Pure.
// Routes and devices come from the datastore by Calico's rules: calico-rules.ts, host-checks.ts.
import { MODE_SPECS, type Encapsulation, type Mode } from "../modes.ts";

export { missingRoutes, needsIpip } from "./host-checks.ts";

export interface RunningPod {
  name: string;
  ip: string;
  host: string;
  server: boolean;
}

export interface PodPair {
  from: RunningPod;
  to: RunningPod;
  crossNode: boolean;
}

/** Every ordered pair of distinct pods. */
export function podPairs(pods: readonly RunningPod[]): PodPair[] {
  const out: PodPair[] = [];
  for (const a of pods)
    for (const b of pods) if (a !== b) out.push({ from: a, to: b, crossNode: a.host !== b.host });
  return out;
}

/** How cross-node pod traffic must look on the underlay in each mode, between hosts of one subnet or not. */
export function expectedEncapsulation(mode: Mode, sameSubnet = true): Encapsulation {
  const { wire } = MODE_SPECS[mode];
  return sameSubnet ? wire.sameSubnet : wire.crossSubnet;
}

/** `ip route show` lines normalized for comparison (spacing, trailing blanks). */
export function normalizeRoutes(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim().replace(/\s+/g, " "))
    .filter(Boolean);
}
