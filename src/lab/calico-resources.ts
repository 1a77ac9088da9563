// The Calico resources a lab applies to its datastore besides what calico-node creates itself
// (like `calicoctl apply -f` in the seeds): BGP configuration and peers for route reflectors and the
// outside router. Pure.
import { newResource } from "../agent/datastore/keys.ts";
import type { BGPConfiguration, BGPPeer } from "../agent/confd/types.ts";
import type { IPPool } from "../agent/datastore/keys.ts";
import { DEFAULT_POOL_NAME } from "../agent/startup/pool.ts";
import type { CalicoVariant } from "../manifest/index.ts";
import type { LabPlan } from "./topology.ts";

export const RR_LABEL = "route-reflector";

/**
 * The default pool, from the same variant as the manifest. CALICO_IPV4POOL_* only seed a pool that does not
 * exist yet (Calico's rule, the seeds' trap); the lab applies the pool itself, like `calicoctl apply`, so a
 * mode change on a running lab (ipip → bgp) reaches the pool, and felix and confd follow without a reboot.
 */
export function poolResource(v: CalicoVariant): IPPool {
  return newResource(
    "IPPool",
    { name: DEFAULT_POOL_NAME },
    {
      cidr: v.podCidr,
      ipipMode: v.ipipMode,
      vxlanMode: v.vxlanMode,
      natOutgoing: v.natOutgoing,
      blockSize: v.blockSize,
      nodeSelector: "all()",
    },
  );
}

export function bgpResources(plan: LabPlan, asNumber: number): (BGPConfiguration | BGPPeer)[] {
  const rr = plan.routeReflectors.length > 0;
  const out: (BGPConfiguration | BGPPeer)[] = [
    newResource(
      "BGPConfiguration",
      { name: "default" },
      {
        asNumber,
        nodeToNodeMeshEnabled: !rr,
        logSeverityScreen: "Info",
      },
    ),
  ];
  if (rr) {
    out.push(
      newResource(
        "BGPPeer",
        { name: "peer-with-route-reflectors" },
        {
          nodeSelector: `!has(${RR_LABEL})`,
          peerSelector: `has(${RR_LABEL})`,
        },
      ),
      newResource(
        "BGPPeer",
        { name: "route-reflector-mesh" },
        {
          nodeSelector: `has(${RR_LABEL})`,
          peerSelector: `has(${RR_LABEL})`,
        },
      ),
    );
  }
  if (plan.outside.asNumber !== undefined) {
    // Seed 004: an outside router peers with the reflectors (or every node without them).
    out.push(
      newResource(
        "BGPPeer",
        { name: "outside-router" },
        {
          ...(rr ? { nodeSelector: `has(${RR_LABEL})` } : {}),
          peerIP: plan.outside.address,
          asNumber: plan.outside.asNumber,
        },
      ),
    );
  }
  return out;
}

/** BIRD 2 config of the outside router: eBGP to the reflectors (or all nodes), routes into its kernel. */
export function outsideBirdConf(plan: LabPlan, clusterAs: number): string {
  if (plan.outside.asNumber === undefined)
    throw new Error("the outside host has no AS number: it runs no BGP");
  const peers = plan.hosts.filter(
    (h) => plan.routeReflectors.length === 0 || plan.routeReflectors.includes(h.name),
  );
  const lines = [
    "# BIRD 2 configuration of the lab's outside router (seed 004): it learns pod routes over eBGP.",
    `router id ${plan.outside.address};`,
    "timeformat protocol iso short;",
    "protocol device { scan time 2; }",
    'protocol direct { ipv4; interface "eth0"; }',
    "protocol kernel {",
    "  ipv4 { import none; export filter { if source = RTS_BGP then accept; reject; }; };",
    "  metric 0;",
    "}",
  ];
  for (const h of peers) {
    lines.push(
      `protocol bgp Peer_${h.address.replace(/\./g, "_")} {`,
      `  local ${plan.outside.address} as ${plan.outside.asNumber};`,
      `  neighbor ${h.address} as ${clusterAs};`,
      "  direct;",
      "  ipv4 { import all; export none; };",
      "  connect delay time 1;",
      "  connect retry time 1;",
      "  error wait time 1, 5;",
      "}",
    );
  }
  return lines.join("\n") + "\n";
}
