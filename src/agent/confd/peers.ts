// Who a node peers with, the way Calico's confd decides: the node-to-node mesh (while enabled), global
// BGPPeers (no node, no nodeSelector: every node), and node-specific BGPPeers (node or nodeSelector), whose
// remote end is a fixed peerIP or every node a peerSelector matches. Route-reflector clients follow from
// routeReflectorClusterID. Pure.
import { IPv4, IPv4Prefix } from "ip-num";
import type { CalicoNode } from "../datastore/keys.ts";
import { parseSelector } from "./selector.ts";
import { DEFAULT_AS_NUMBER, type BGPConfiguration, type BGPPeer } from "./types.ts";

export type PeerType = "node-to-node mesh" | "global" | "node specific";

export interface PeerPlan {
  /** BIRD protocol name: Mesh_192_168_19_166, Global_…, Node_…. */
  name: string;
  ip: string;
  asNumber: number;
  type: PeerType;
  /** This node reflects routes to the peer. */
  rrClient: boolean;
  /** The peer is on the node's own subnet (a direct session); otherwise multihop. */
  direct: boolean;
}

export interface LocalBgp {
  name: string;
  ip: string;
  prefixLength: number;
  asNumber: number;
  rrClusterID?: string;
}

function nodeIPv4(node: CalicoNode): { ip: string; prefixLength: number } | undefined {
  const a = node.spec.bgp?.ipv4Address;
  if (!a) return undefined;
  const [ip, len] = a.split("/");
  return { ip: ip!, prefixLength: Number(len ?? 32) };
}

export function globalAsNumber(config?: BGPConfiguration): number {
  return config?.spec.asNumber ?? DEFAULT_AS_NUMBER;
}

export function localBgp(node: CalicoNode, config?: BGPConfiguration): LocalBgp | undefined {
  const addr = nodeIPv4(node);
  if (!addr) return undefined;
  const rr = node.spec.bgp?.routeReflectorClusterID;
  return {
    name: node.metadata.name,
    ip: addr.ip,
    prefixLength: addr.prefixLength,
    asNumber: node.spec.bgp?.asNumber ?? globalAsNumber(config),
    ...(rr ? { rrClusterID: rr } : {}),
  };
}

export function sameSubnet(a: string, prefixLength: number, b: string): boolean {
  // The network bits compared as numbers: a reflector asks this for every node on every pass, and
  // building two CIDR ranges per question cost it ~1 ms per pass in a 50-host lab.
  const hostBits = 32n - new IPv4Prefix(BigInt(prefixLength)).getValue();
  const v = (ip: string) => IPv4.fromDecimalDottedString(ip).getValue() >> hostBits;
  return v(a) === v(b);
}

const protoName = (prefix: string, ip: string) => `${prefix}_${ip.replace(/\./g, "_")}`;

export function planPeers(
  local: CalicoNode,
  nodes: readonly CalicoNode[],
  peers: readonly BGPPeer[],
  config?: BGPConfiguration,
): PeerPlan[] {
  const me = localBgp(local, config);
  if (!me) return [];
  const meshEnabled = config?.spec.nodeToNodeMeshEnabled ?? true;
  const localLabels = local.metadata.labels ?? {};
  const byIP = new Map<string, PeerPlan>();

  const add = (prefix: string, type: PeerType, ip: string, asNumber: number, peerCluster?: string) => {
    if (ip === me.ip || byIP.has(ip)) return;
    byIP.set(ip, {
      name: protoName(prefix, ip),
      ip,
      asNumber,
      type,
      rrClient: Boolean(me.rrClusterID) && asNumber === me.asNumber && peerCluster !== me.rrClusterID,
      direct: sameSubnet(me.ip, me.prefixLength, ip),
    });
  };
  /** Every other node with an address that `match` takes, at its own AS number and cluster. */
  const addNodes = (prefix: string, type: PeerType, match: (n: CalicoNode) => boolean) => {
    for (const n of nodes) {
      const addr = nodeIPv4(n);
      if (!addr || n.metadata.name === me.name || !match(n)) continue;
      add(
        prefix,
        type,
        addr.ip,
        n.spec.bgp?.asNumber ?? globalAsNumber(config),
        n.spec.bgp?.routeReflectorClusterID,
      );
    }
  };

  // Explicit peerings first: they win over the mesh for the same address.
  for (const p of peers) {
    const s = p.spec;
    const global = !s.node && !s.nodeSelector;
    // Parsed once per peering, not once per node it is tried on (a reflector tries every node).
    const nodeSelector = s.nodeSelector ? parseSelector(s.nodeSelector) : undefined;
    const nodeMatch = (name: string, labels: Record<string, string>) =>
      s.node === name || (nodeSelector !== undefined && nodeSelector(labels));
    // Node-to-node peerings are symmetric (as in Calico's confd): a node the peerSelector matches also
    // peers with every node the peering applies to, so the reflector side of `!has(rr) → has(rr)` exists.
    if (s.peerSelector && !global && parseSelector(s.peerSelector)(localLabels))
      addNodes("Node", "node specific", (n) => nodeMatch(n.metadata.name, n.metadata.labels ?? {}));
    const applies = global || nodeMatch(me.name, localLabels);
    if (!applies) continue;
    const [prefix, type]: [string, PeerType] = global ? ["Global", "global"] : ["Node", "node specific"];
    if (s.peerIP) add(prefix, type, s.peerIP.split(":")[0]!, s.asNumber ?? globalAsNumber(config));
    if (s.peerSelector) {
      const match = parseSelector(s.peerSelector);
      addNodes(prefix, type, (n) => match(n.metadata.labels ?? {}));
    }
  }
  if (meshEnabled) addNodes("Mesh", "node-to-node mesh", () => true);
  // Sorted by address as a number, each address converted once.
  return [...byIP.values()]
    .map((p) => ({ p, v: IPv4.fromDecimalDottedString(p.ip).getValue() }))
    .sort((a, b) => (a.v < b.v ? -1 : a.v > b.v ? 1 : 0))
    .map(({ p }) => p);
}
