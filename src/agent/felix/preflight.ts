// Kernel features a mode needs, checked before anything is created. Never fall back silently.
import { randomBytes } from "node:crypto";
import { tryRun } from "../../effects/exec.ts";
import { MODE_SPECS, type KernelFeature, type Mode } from "../../modes.ts";

export type { KernelFeature } from "../../modes.ts";

export interface FeatureProbe {
  feature: KernelFeature;
  /** The `ip link add` type that proves the feature. */
  linkType: string;
  module: string;
}

const PROBES: Record<KernelFeature, FeatureProbe> = {
  ipip: { feature: "ipip", linkType: "ipip", module: "ipip" },
  vxlan: { feature: "vxlan", linkType: "vxlan", module: "vxlan" },
  veth: { feature: "veth", linkType: "veth", module: "veth" },
  bridge: { feature: "bridge", linkType: "bridge", module: "bridge" },
};

/** What each lab mode needs from the kernel. */
export function featuresFor(mode: Mode): KernelFeature[] {
  return ["veth", "bridge", ...MODE_SPECS[mode].kernelFeatures];
}

/** Whether a mode can run without a feature, with less proven (ModeSpec.degradesWithout); else a refusal. */
export function degradable(mode: Mode, feature: KernelFeature): boolean {
  return MODE_SPECS[mode].degradesWithout.includes(feature);
}

export function degradedMessage(mode: Mode, feature: KernelFeature): string {
  return (
    `mode ${mode}: this kernel has no ${PROBES[feature].module} module, so pod traffic inside a subnet runs ` +
    `(plain) but traffic across subnets cannot be encapsulated; tunl0 is not created and those checks are ` +
    `skipped. Run scripts/ci-vm (a VM with a distribution kernel) to see the IP-in-IP part.`
  );
}

export interface PreflightProblem {
  feature: KernelFeature;
  message: string;
}

export function missingFeatureMessage(mode: Mode, feature: KernelFeature, seen: string): string {
  const p = PROBES[feature];
  const alternatives =
    feature === "ipip"
      ? "use mode bgp or vxlan on this machine, or run the ipip stack in a VM with a distribution kernel (scripts/vm-run)"
      : `load the ${p.module} module (modprobe ${p.module}) or use another mode`;
  return (
    `mode ${mode} needs the kernel's ${p.module} module, and this kernel cannot create a device of type ${p.linkType} ` +
    `(${seen.trim() || "ip link add failed"}). Nothing was created. Fix: ${alternatives}.`
  );
}

/**
 * An IPIP probe device's parameters. Where the ipip module is loaded, every namespace already has the
 * fallback tunl0 (local any, remote any), and a second tunnel with those keys fails with "File exists":
 * the probe names a remote of its own (TEST-NET-1; the device is never up, nothing is sent).
 */
export const IPIP_PROBE_PARAMS = ["type", "ipip", "remote", "192.0.2.1"] as const;

function linkAddArgs(feature: KernelFeature, name: string): string[] {
  switch (feature) {
    case "vxlan":
      return [name, "type", "vxlan", "id", "42", "dstport", "4789"];
    case "veth":
      return [name, "type", "veth", "peer", "name", `${name}p`];
    case "ipip":
      return [name, ...IPIP_PROBE_PARAMS];
    default:
      return [name, "type", PROBES[feature].linkType];
  }
}

/** Tries each feature in a throwaway namespace (nothing touches the root namespace). */
export async function preflight(mode: Mode): Promise<PreflightProblem[]> {
  const ns = `preflight-${randomBytes(3).toString("hex")}`;
  const problems: PreflightProblem[] = [];
  const add = await tryRun(["ip", "netns", "add", ns]);
  if (add.exitCode !== 0)
    throw new Error(`preflight: cannot create a network namespace: ${add.stderr.trim()}`);
  try {
    for (const f of featuresFor(mode)) {
      const name = `pf${f}`.slice(0, 15);
      const r = await tryRun(["ip", "-n", ns, "link", "add", ...linkAddArgs(f, name)]);
      if (r.exitCode !== 0) problems.push({ feature: f, message: missingFeatureMessage(mode, f, r.stderr) });
    }
  } finally {
    await tryRun(["ip", "netns", "delete", ns]);
  }
  return problems;
}
