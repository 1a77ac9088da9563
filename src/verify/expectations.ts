// What a lab must show, per mode: derived from the plan and the datastore, never hard-coded lists. Pure.
import type { Mode } from "../config/lab-config.ts";
import {
  expectedBlackholes,
  expectedRemoteRoutes,
  planDataplane,
  type Snapshot,
} from "../agent/felix/plan.ts";
import type { Encapsulation } from "./capture.ts";

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
  switch (mode) {
    case "ipip":
      return "ipip";
    case "vxlan":
      return "vxlan";
    case "crosssubnet":
      return sameSubnet ? "plain" : "ipip";
    default:
      return "plain";
  }
}

/** Whether a route line needs the kernel's ipip module (a route through tunl0). */
export function needsIpip(routeLine: string): boolean {
  return / dev tunl0( |$)/.test(routeLine);
}

export interface HostExpectations {
  /** Lines `ip route show` must contain. */
  routes: string[];
  /** tunl0 must exist (with this /32 and MTU) or must not. */
  tunl0?: { address: string; mtu: number };
  vxlan?: { address: string; mtu: number };
  bird: boolean;
}

export function hostExpectations(snapshot: Snapshot, node: string, underlayIf: string): HostExpectations {
  const plan = planDataplane(snapshot, node);
  return {
    routes: [
      ...expectedRemoteRoutes(snapshot, node, underlayIf).map((r) => r.line),
      ...(plan.bird ? expectedBlackholes(snapshot, node) : []),
    ],
    ...(plan.ipip ? { tunl0: plan.ipip } : {}),
    ...(plan.vxlan ? { vxlan: { address: plan.vxlan.address, mtu: plan.vxlan.mtu } } : {}),
    bird: plan.bird,
  };
}

/** `ip route show` lines normalized for comparison (spacing, trailing blanks). */
export function normalizeRoutes(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim().replace(/\s+/g, " "))
    .filter(Boolean);
}

export function missingRoutes(expected: readonly string[], actual: readonly string[]): string[] {
  const have = new Set(actual);
  return expected.filter((e) => !have.has(e));
}
