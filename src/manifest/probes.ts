// calico-node's health probes and BIRD: `calico-node -bird-ready` / `-bird-live` check BIRD, so with a
// backend that runs no BIRD they never pass. Upstream HEAD spells them with two dashes (its CLI is cobra,
// which needs them); older calico-node used Go's flag package, which accepts one dash or two.
import { isScalar, isSeq, type Scalar, type YAMLSeq } from "yaml";
import type { CalicoNodeManifest } from "./calico-node.ts";

export const PROBES = [
  { probe: "readinessProbe", bird: "bird-ready", felix: "felix-ready" },
  { probe: "livenessProbe", bird: "bird-live", felix: "felix-live" },
] as const;
export type ProbeName = (typeof PROBES)[number]["probe"];

const BIRD_ARG = /^--?bird-(ready|live)$/;

export interface ProbeState {
  probe: ProbeName;
  /** The flag this probe uses to check BIRD, without dashes. */
  birdFlag: "bird-ready" | "bird-live";
  /** The exec command list, when the probe is `exec: command: [...]`. */
  command: YAMLSeq | undefined;
  /** The BIRD check in it, with its spelling (`-bird-ready` or `--bird-ready`). */
  bird: Scalar | undefined;
  /** The Felix check in it (calico-node's own health flag), when there is one. */
  felix: Scalar | undefined;
}

export function readProbes(m: CalicoNodeManifest): ProbeState[] {
  return PROBES.map(({ probe, bird, felix }) => {
    const command = m.container.getIn([probe, "exec", "command"], true);
    const seq = isSeq(command) ? (command as YAMLSeq) : undefined;
    const items = (seq?.items ?? []).filter(isScalar) as Scalar[];
    const arg = (re: RegExp) => items.find((i) => typeof i.value === "string" && re.test(i.value));
    return {
      probe,
      birdFlag: bird,
      command: seq,
      bird: arg(new RegExp(`^--?${bird}$`)),
      felix: arg(new RegExp(`^--?${felix}$`)),
    };
  });
}

/** True when any probe argument checks BIRD, in either spelling. */
export function isBirdArg(s: unknown): boolean {
  return typeof s === "string" && BIRD_ARG.test(s);
}

/** calico/node image version [major, minor], when the image tag says (vX.Y...). */
export function calicoNodeVersion(m: CalicoNodeManifest): [number, number] | undefined {
  const image = m.container.get("image", true);
  if (!isScalar(image) || typeof image.value !== "string") return undefined;
  const tag = /:v?(\d+)\.(\d+)/.exec(image.value);
  return tag ? [Number(tag[1]), Number(tag[2])] : undefined;
}

/**
 * The spelling a restored BIRD check takes: the dashes of the probe's own Felix check (same calico-node
 * version), else two (every version's parser accepts them; HEAD's requires them).
 */
export function birdArgFor(p: ProbeState): string {
  const felix = p.felix && typeof p.felix.value === "string" ? p.felix.value : "";
  return `${felix.startsWith("--") || felix === "" ? "--" : "-"}${p.birdFlag}`;
}

/**
 * Whether this calico-node version checks BIRD in this probe: readiness always; liveness from v3.10 (v3.8
 * and v3.9 manifests run `-felix-live` only). Unknown versions count as current.
 */
export function versionChecksBird(m: CalicoNodeManifest, probe: ProbeName): boolean {
  if (probe === "readinessProbe") return true;
  const v = calicoNodeVersion(m);
  return v === undefined || v[0] > 3 || (v[0] === 3 && v[1] >= 10);
}

/** A probe calico-node runs itself (`calico-node -felix-…`), as opposed to one a user replaced. */
export function isCalicoNodeProbe(p: ProbeState): boolean {
  return p.command !== undefined && p.felix !== undefined;
}
