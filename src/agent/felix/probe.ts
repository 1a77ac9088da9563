// The daemon's preflight: can this kernel create the tunnel devices the manifest's mode needs? Each
// probe runs in an anonymous network namespace (`unshare --net`), gone when the probe exits, so nothing
// is created anywhere — and it works from inside a lab host's namespace.
import { tryRun } from "../../effects/exec.ts";
import {
  degradable,
  degradedMessage,
  IPIP_PROBE_PARAMS,
  missingFeatureMessage,
  type KernelFeature,
} from "./preflight.ts";
import type { Mode } from "../../modes.ts";

const PROBE_ARGS: Partial<Record<KernelFeature, string[]>> = {
  ipip: ["pfipip", ...IPIP_PROBE_PARAMS],
  vxlan: ["pfvxlan", "type", "vxlan", "id", "42", "dstport", "4789"],
};

/** The lab mode a manifest's pool settings amount to (for messages). */
export { modeOfPool as modeName } from "../../modes.ts";

export interface ProbeResult {
  /** One message per missing feature the mode cannot run without. */
  refusals: string[];
  /** Missing features the mode runs without, less proven (see degradable). */
  degraded: { feature: KernelFeature; message: string }[];
}

/** Probes `features` (all present: both lists empty). */
export async function probeFeatures(mode: Mode, features: readonly KernelFeature[]): Promise<ProbeResult> {
  const out: ProbeResult = { refusals: [], degraded: [] };
  for (const f of features) {
    const args = PROBE_ARGS[f];
    if (!args) continue;
    const r = await tryRun(["unshare", "--net", "ip", "link", "add", ...args]);
    if (r.exitCode === 0) continue;
    if (degradable(mode, f)) out.degraded.push({ feature: f, message: degradedMessage(mode, f) });
    else out.refusals.push(missingFeatureMessage(mode, f, r.stderr));
  }
  return out;
}
