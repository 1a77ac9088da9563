// The lab's modes in one typed table: everything the lab knows about a mode lives in its ModeSpec, so a new
// mode is one entry here, and `Record<Mode, …>` makes the compiler name whatever else it needs.
// Pure data; imported by config, manifest, agent, verify and cli alike (it imports only types).
import type { VariantSpec } from "./manifest/variant.ts";

export const MODES = ["ipip", "bgp", "vxlan", "crosssubnet"] as const;
export type Mode = (typeof MODES)[number];

/** How a pod packet between two nodes looks on the underlay wire. */
export type Encapsulation = "ipip" | "vxlan" | "plain";

/** Kernel features a lab may need; each is proved by creating a device of that type. */
export type KernelFeature = "ipip" | "vxlan" | "veth" | "bridge";

/** How each encapsulation is drawn and named in reports. */
export const ENCAPSULATIONS: Record<Encapsulation, { name: string; arc: string; color: string }> = {
  ipip: { name: "IP-in-IP", arc: "IPIP tunnel", color: "#c0392b" },
  vxlan: { name: "VXLAN", arc: "VXLAN tunnel", color: "#8e44ad" },
  plain: { name: "plain", arc: "BGP session", color: "#2471a3" },
};

/** The tunnel device a mode routes cross-node pod traffic through, as Felix names it. */
export type TunnelDevice = "tunl0" | "vxlan.calico";

export interface ModeSpec {
  /** The short name tables and columns use (scripts/compare). */
  title: string;
  /** The report's opening sentence: how pod packets travel. */
  story: string;
  /**
   * What the seed changed in calico.yaml for this mode. It names only those entries, so rendering it onto
   * any manifest touches nothing else.
   */
  preset: VariantSpec;
  /** Kernel features the mode needs beyond veth and bridge. */
  kernelFeatures: readonly KernelFeature[];
  /**
   * Features the mode can run without, with less proven (crosssubnet without ipip still carries traffic
   * inside a subnet, plain); every other missing feature is a refusal.
   */
  degradesWithout: readonly KernelFeature[];
  /** Cross-node pod traffic on the wire, between hosts of one subnet and across subnets. */
  wire: { sameSubnet: Encapsulation; crossSubnet: Encapsulation };
  /** The tunnel device, when the mode has one. */
  tunnel?: TunnelDevice;
  /** Whether calico-node runs BIRD: BGP sessions, route reflectors and outside peers need it. */
  runsBgp: boolean;
  /** The pod and tunnel MTUs when the stack sets no underlay MTU, if not the template's 1440. */
  defaultMtus?: Pick<VariantSpec, "vethMtu" | "ipipMtu" | "vxlanMtu">;
}

export const MODE_SPECS: Record<Mode, ModeSpec> = {
  // Upstream's default: IPIP for every cross-host packet.
  ipip: {
    title: "IPIP",
    story: "Pod packets between nodes travel inside IP-in-IP (protocol 4) through tunl0.",
    preset: {
      backend: "bird",
      ipipMode: "Always",
      vxlanMode: "Never",
      felixIpipEnabled: null,
      felixVxlanEnabled: null,
    },
    kernelFeatures: ["ipip"],
    degradesWithout: [],
    wire: { sameSubnet: "ipip", crossSubnet: "ipip" },
    tunnel: "tunl0",
    runsBgp: true,
  },
  // Seed 002 with IPIP off: routes learned over BGP, packets forwarded unencapsulated.
  bgp: {
    title: "BGP",
    story:
      "Pod packets between nodes travel unencapsulated; every node learns the others' pod blocks over BGP.",
    preset: {
      backend: "bird",
      ipipMode: "Never",
      vxlanMode: "Never",
      felixIpipEnabled: false,
      felixVxlanEnabled: null,
    },
    kernelFeatures: [],
    degradesWithout: [],
    wire: { sameSubnet: "plain", crossSubnet: "plain" },
    runsBgp: true,
  },
  // VXLAN without BGP: calico_backend vxlan, BIRD not run.
  vxlan: {
    title: "VXLAN",
    story: "Pod packets between nodes travel inside VXLAN (UDP 4789) through vxlan.calico; no BGP.",
    preset: {
      backend: "vxlan",
      ipipMode: "Never",
      vxlanMode: "Always",
      felixIpipEnabled: null,
      felixVxlanEnabled: true,
    },
    kernelFeatures: ["vxlan"],
    degradesWithout: [],
    wire: { sameSubnet: "vxlan", crossSubnet: "vxlan" },
    tunnel: "vxlan.calico",
    runsBgp: false,
    // Its 50-byte header needs the pods at upstream's 1410 (as vxlan.calico), or full-size packets won't fit.
    defaultMtus: { vethMtu: 1410, vxlanMtu: 1410 },
  },
  // IPIP only between hosts in different subnets.
  crosssubnet: {
    title: "CrossSubnet",
    story: "Pod packets travel plain inside a subnet and in IP-in-IP across subnets.",
    preset: {
      backend: "bird",
      ipipMode: "CrossSubnet",
      vxlanMode: "Never",
      felixIpipEnabled: null,
      felixVxlanEnabled: null,
    },
    kernelFeatures: ["ipip"],
    degradesWithout: ["ipip"],
    wire: { sameSubnet: "plain", crossSubnet: "ipip" },
    tunnel: "tunl0",
    runsBgp: true,
  },
};

export function isMode(s: unknown): s is Mode {
  return typeof s === "string" && (MODES as readonly string[]).includes(s);
}

/** Whether pod traffic crosses a router that knows no pod routes: only if it is encapsulated there. */
export function crossesRouter(mode: Mode): boolean {
  return MODE_SPECS[mode].wire.crossSubnet !== "plain";
}

/** Whether every host needs a tunnel address from the pool (tunl0 or vxlan.calico). */
export function hasTunnel(mode: Mode): boolean {
  return MODE_SPECS[mode].tunnel !== undefined;
}

/** The lab mode a pool's encapsulation settings amount to (the agent's own view, for messages). */
export function modeOfPool(pool: { ipipMode: string; vxlanMode: string }): Mode {
  const found = MODES.find(
    (m) =>
      MODE_SPECS[m].preset.ipipMode === pool.ipipMode && MODE_SPECS[m].preset.vxlanMode === pool.vxlanMode,
  );
  if (found) return found;
  // Combinations no preset names: the encapsulation that is on decides, IPIP first.
  if (pool.ipipMode === "CrossSubnet") return "crosssubnet";
  if (pool.ipipMode !== "Never") return "ipip";
  return pool.vxlanMode !== "Never" ? "vxlan" : "bgp";
}
