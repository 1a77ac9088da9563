// The daemon's preflight: can this kernel create the tunnel devices the manifest's mode needs? Each
// probe runs in an anonymous network namespace (`unshare --net`), gone when the probe exits, so nothing
// is created anywhere — and it works from inside a lab host's namespace.
import { tryRun } from "../../effects/exec.ts";
import { missingFeatureMessage, type KernelFeature } from "./preflight.ts";

const PROBE_ARGS: Partial<Record<KernelFeature, string[]>> = {
  ipip: ["pfipip", "type", "ipip"],
  vxlan: ["pfvxlan", "type", "vxlan", "id", "42", "dstport", "4789"],
};

/** The lab mode name a manifest's pool settings amount to (for messages). */
export function modeName(pool: { ipipMode: string; vxlanMode: string }): string {
  if (pool.ipipMode === "CrossSubnet") return "crosssubnet";
  if (pool.ipipMode !== "Never") return "ipip";
  if (pool.vxlanMode !== "Never") return "vxlan";
  return "bgp";
}

/** Probes `features`; returns one refusal message per missing feature (empty: all present). */
export async function probeFeatures(mode: string, features: readonly KernelFeature[]): Promise<string[]> {
  const problems: string[] = [];
  for (const f of features) {
    const args = PROBE_ARGS[f];
    if (!args) continue;
    const r = await tryRun(["unshare", "--net", "ip", "link", "add", ...args]);
    if (r.exitCode !== 0) problems.push(missingFeatureMessage(mode, f, r.stderr));
  }
  return problems;
}
