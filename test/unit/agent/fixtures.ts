// Datastore snapshots shared by the routing unit tests: the seeds' three nodes, a pool per mode.
import {
  newResource,
  type CalicoNode,
  type EncapMode,
  type IPPool,
} from "../../../src/agent/datastore/keys.ts";

export function node(
  name: string,
  cidr: string,
  opts: { labels?: Record<string, string>; rr?: string; ipip?: string; vxlan?: string; as?: number } = {},
): CalicoNode {
  return newResource(
    "Node",
    { name, labels: opts.labels ?? {} },
    {
      bgp: {
        ipv4Address: cidr,
        ...(opts.ipip ? { ipv4IPIPTunnelAddr: opts.ipip } : {}),
        ...(opts.rr ? { routeReflectorClusterID: opts.rr } : {}),
        ...(opts.as ? { asNumber: opts.as } : {}),
      },
      ...(opts.vxlan ? { ipv4VXLANTunnelAddr: opts.vxlan } : {}),
    },
  );
}

export function pool(ipipMode: EncapMode, vxlanMode: EncapMode = "Never", natOutgoing = true): IPPool {
  return newResource(
    "IPPool",
    { name: "default-ipv4-ippool" },
    { cidr: "10.244.0.0/16", ipipMode, vxlanMode, natOutgoing, blockSize: 26, nodeSelector: "all()" },
  );
}

export const seedNodes = [
  node("master", "192.168.19.165/24", { ipip: "10.244.137.64", vxlan: "10.244.137.65" }),
  node("worker-1", "192.168.19.166/24", {
    labels: { worker: "no-1" },
    ipip: "10.244.1.0",
    vxlan: "10.244.1.1",
  }),
  node("worker-2", "192.168.19.167/24", {
    labels: { worker: "no-2" },
    ipip: "10.244.2.64",
    vxlan: "10.244.2.65",
  }),
];

export const seedBlocks = [
  { cidr: "10.244.137.64/26", affinity: "host:master" },
  { cidr: "10.244.1.0/26", affinity: "host:worker-1" },
  { cidr: "10.244.2.64/26", affinity: "host:worker-2" },
];
