// What a node's dataplane must look like, derived from the datastore: tunnel devices, VXLAN routes and
// neighbours, natOutgoing rules, and the kernel routes BIRD is expected to install. Pure.
import { IPv4CidrRange } from "ip-num";
import type { AllocationBlock, CalicoNode, IPPool } from "../datastore/keys.ts";
import { sameSubnet } from "../confd/peers.ts";
import { parseSelector } from "../confd/selector.ts";

export const IPIP_DEVICE = "tunl0";
export const VXLAN_DEVICE = "vxlan.calico";
export const VXLAN_VNI = 4096;
export const VXLAN_PORT = 4789;
export const DEFAULT_IPIP_MTU = 1440;
export const DEFAULT_VXLAN_MTU = 1410;

export interface Snapshot {
  nodes: readonly CalicoNode[];
  pools: readonly IPPool[];
  /** Every block with its affinity (`host:<node>`). */
  blocks: readonly Pick<AllocationBlock, "cidr" | "affinity">[];
}

export interface NodeAddress {
  ip: string;
  prefixLength: number;
}

export interface VxlanPeer {
  node: string;
  /** The remote node's underlay address (FDB destination). */
  nodeIP: string;
  tunnelIP: string;
  mac: string;
  /** Remote blocks routed through this peer. */
  blocks: string[];
}

export interface DataplanePlan {
  node: string;
  address: NodeAddress;
  /** tunl0 with this /32 when an IPIP pool selects the node; undefined: no tunl0 (removed if present). */
  ipip?: { address: string; mtu: number };
  /** vxlan.calico when a VXLAN pool selects the node. */
  vxlan?: { address: string; mac: string; mtu: number; vni: number; port: number; peers: VxlanPeer[] };
  /** Pools whose traffic leaving the pools is masqueraded. */
  natOutgoingPools: string[];
  allPools: string[];
  /** BIRD runs unless every pool is VXLAN (Calico's vxlan backend). */
  bird: boolean;
}

export function nodeAddress(node: CalicoNode): NodeAddress | undefined {
  const a = node.spec.bgp?.ipv4Address;
  if (!a) return undefined;
  const [ip, len] = a.split("/");
  return { ip: ip!, prefixLength: Number(len ?? 32) };
}

function selects(pool: IPPool, node: CalicoNode): boolean {
  return !pool.spec.disabled && parseSelector(pool.spec.nodeSelector || "all()")(node.metadata.labels ?? {});
}

function affinityNode(affinity: string | null): string | undefined {
  return affinity?.startsWith("host:") ? affinity.slice(5) : undefined;
}

function within(cidr: string, pool: string): boolean {
  return IPv4CidrRange.fromCidr(pool).contains(IPv4CidrRange.fromCidr(cidr));
}

/** Felix's VXLAN MAC: derived from the node name so it is stable across restarts (locally administered). */
export function vxlanMac(nodeName: string): string {
  let h = 2166136261;
  for (const c of nodeName) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  const b = [0x66, (h >>> 24) & 255, (h >>> 16) & 255, (h >>> 8) & 255, h & 255, nodeName.length & 255];
  return b.map((x) => x.toString(16).padStart(2, "0")).join(":");
}

export function planDataplane(
  snapshot: Snapshot,
  nodeName: string,
  mtus: { ipip?: number; vxlan?: number } = {},
): DataplanePlan {
  const node = snapshot.nodes.find((n) => n.metadata.name === nodeName);
  if (!node) throw new Error(`node ${nodeName} is not registered in the datastore`);
  const address = nodeAddress(node);
  if (!address) throw new Error(`node ${nodeName} has no bgp.ipv4Address`);
  const mine = snapshot.pools.filter((p) => selects(p, node));
  const enabled = snapshot.pools.filter((p) => !p.spec.disabled);
  const plan: DataplanePlan = {
    node: nodeName,
    address,
    natOutgoingPools: enabled.filter((p) => p.spec.natOutgoing).map((p) => p.spec.cidr),
    allPools: enabled.map((p) => p.spec.cidr),
    bird: mine.length === 0 || mine.some((p) => p.spec.vxlanMode === "Never"),
  };

  const ipipPools = mine.filter((p) => p.spec.ipipMode !== "Never");
  const tunnelIP = node.spec.bgp?.ipv4IPIPTunnelAddr;
  if (ipipPools.length > 0 && tunnelIP) {
    plan.ipip = { address: tunnelIP, mtu: mtus.ipip ?? DEFAULT_IPIP_MTU };
  }

  const vxlanPools = mine.filter((p) => p.spec.vxlanMode !== "Never");
  const vxlanIP = node.spec.ipv4VXLANTunnelAddr;
  if (vxlanPools.length > 0 && vxlanIP) {
    const peers: VxlanPeer[] = [];
    for (const other of snapshot.nodes) {
      if (other.metadata.name === nodeName) continue;
      const oa = nodeAddress(other);
      const otherTunnel = other.spec.ipv4VXLANTunnelAddr;
      if (!oa || !otherTunnel) continue;
      const blocks = snapshot.blocks
        .filter((b) => affinityNode(b.affinity) === other.metadata.name)
        .filter((b) =>
          vxlanPools.some(
            (p) =>
              within(b.cidr, p.spec.cidr) &&
              (p.spec.vxlanMode === "Always" || !sameSubnet(address.ip, address.prefixLength, oa.ip)),
          ),
        )
        .map((b) => b.cidr)
        .sort();
      peers.push({
        node: other.metadata.name,
        nodeIP: oa.ip,
        tunnelIP: otherTunnel,
        mac: vxlanMac(other.metadata.name),
        blocks,
      });
    }
    plan.vxlan = {
      address: vxlanIP,
      mac: vxlanMac(nodeName),
      mtu: mtus.vxlan ?? DEFAULT_VXLAN_MTU,
      vni: VXLAN_VNI,
      port: VXLAN_PORT,
      peers,
    };
  }
  return plan;
}

/** natOutgoing as Calico programs it: a `cali-nat-outgoing` chain reached from POSTROUTING. */
export function natOutgoingRules(plan: Pick<DataplanePlan, "natOutgoingPools" | "allPools">): string[] {
  const rules = ["-A cali-POSTROUTING -j cali-nat-outgoing"];
  for (const src of plan.natOutgoingPools) {
    for (const dst of plan.allPools) rules.push(`-A cali-nat-outgoing -s ${src} -d ${dst} -j RETURN`);
    rules.push(`-A cali-nat-outgoing -s ${src} -j MASQUERADE`);
  }
  return rules;
}

/** The route a kernel shows for a remote block, per the pool's mode (what verification expects). */
export type ExpectedRoute = { block: string; node: string; line: string };

export function expectedRemoteRoutes(
  snapshot: Snapshot,
  nodeName: string,
  underlayIf: string,
): ExpectedRoute[] {
  const plan = planDataplane(snapshot, nodeName);
  const out: ExpectedRoute[] = [];
  const me = snapshot.nodes.find((n) => n.metadata.name === nodeName)!;
  for (const b of snapshot.blocks) {
    const owner = affinityNode(b.affinity);
    if (!owner || owner === nodeName) continue;
    const other = snapshot.nodes.find((n) => n.metadata.name === owner);
    const oa = other && nodeAddress(other);
    const pool = snapshot.pools.find((p) => selects(p, me) && within(b.cidr, p.spec.cidr));
    if (!oa || !pool) continue;
    const cross = !sameSubnet(plan.address.ip, plan.address.prefixLength, oa.ip);
    const vx = pool.spec.vxlanMode === "Always" || (pool.spec.vxlanMode === "CrossSubnet" && cross);
    const ipip = pool.spec.ipipMode === "Always" || (pool.spec.ipipMode === "CrossSubnet" && cross);
    let line: string;
    if (vx) {
      const peer = plan.vxlan?.peers.find((p) => p.node === owner);
      // Felix's routes carry its protocol number (80); `ip route` prints it before the flags.
      line = `${b.cidr} via ${peer?.tunnelIP ?? "?"} dev ${VXLAN_DEVICE} proto 80 onlink`;
    } else if (ipip) {
      line = `${b.cidr} via ${oa.ip} dev ${IPIP_DEVICE} proto bird onlink`;
    } else {
      line = `${b.cidr} via ${oa.ip} dev ${underlayIf} proto bird`;
    }
    out.push({ block: b.cidr, node: owner, line });
  }
  return out.sort((a, b) => a.block.localeCompare(b.block));
}

/** Local blocks appear as blackholes: BIRD's static routes, or Felix's (proto 80) when BIRD does not run. */
export function expectedBlackholes(snapshot: Snapshot, nodeName: string): string[] {
  const proto = planDataplane(snapshot, nodeName).bird ? "bird" : "80";
  return snapshot.blocks
    .filter((b) => affinityNode(b.affinity) === nodeName)
    .map((b) => `blackhole ${b.cidr} proto ${proto}`)
    .sort();
}
