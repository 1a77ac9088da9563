// Calico's etcd v3 keys → the facts verification derives its expectations from. Pure.
// Key layout (libcalico-go's etcdv3 backend, as Calico documents its data model):
//   /calico/resources/v3/projectcalico.org/nodes/<node>                     Node (bgp.ipv4Address, tunnel addrs)
//   /calico/resources/v3/projectcalico.org/ippools/<pool>                   IPPool (cidr, modes, natOutgoing)
//   /calico/resources/v3/projectcalico.org/workloadendpoints/<ns>/<name>    WorkloadEndpoint (node, iface, IPs)
//   /calico/ipam/v2/host/<node>/ipv4/block/<a.b.c.d-len>                    block affinity {state, deleted}
//   /calico/ipam/v2/assignment/ipv4/block/<a.b.c.d-len>                     block (cidr, affinity "host:<node>")
import type {
  BlockFact,
  DatastoreFacts,
  EncapMode,
  EndpointFact,
  NodeFact,
  PoolFact,
} from "./calico-rules.ts";

export const RESOURCES = "/calico/resources/v3/projectcalico.org/";
export const IPAM = "/calico/ipam/v2/";
/** The prefixes verification reads (nothing else). */
export const FACT_PREFIXES = [
  `${RESOURCES}nodes/`,
  `${RESOURCES}ippools/`,
  `${RESOURCES}workloadendpoints/`,
  `${IPAM}host/`,
  `${IPAM}assignment/ipv4/block/`,
] as const;

export interface KeyValue {
  key: string;
  value: string;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === "object" ? (v as Json) : {});
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const mode = (v: unknown): EncapMode => (v === "Always" || v === "CrossSubnet" ? v : "Never");

function parse(kv: KeyValue): Json | undefined {
  try {
    return obj(JSON.parse(kv.value));
  } catch {
    return undefined;
  }
}

const keyCidr = (part: string) => part.replace(/-(\d{1,2})$/, "/$1");

/** The facts in a list of etcd key-values; values that are not JSON are left out (and named in `unreadable`). */
export function factsFromKvs(kvs: readonly KeyValue[]): DatastoreFacts & { unreadable: string[] } {
  const nodes: NodeFact[] = [];
  const pools: PoolFact[] = [];
  const endpoints: EndpointFact[] = [];
  const affinity = new Map<string, string>();
  const blockCidrs: string[] = [];
  const unreadable: string[] = [];
  for (const kv of kvs) {
    const v = parse(kv);
    if (!v) {
      unreadable.push(kv.key);
      continue;
    }
    const spec = obj(v.spec);
    const meta = obj(v.metadata);
    if (kv.key.startsWith(`${RESOURCES}nodes/`)) {
      const bgp = obj(spec.bgp);
      const ipv4Address = str(bgp.ipv4Address);
      const ipipTunnelAddr = str(bgp.ipv4IPIPTunnelAddr);
      const vxlanTunnelAddr = str(spec.ipv4VXLANTunnelAddr);
      nodes.push({
        name: str(meta.name) ?? kv.key.slice(`${RESOURCES}nodes/`.length),
        labels: obj(meta.labels) as Record<string, string>,
        ...(ipv4Address ? { ipv4Address } : {}),
        ...(ipipTunnelAddr ? { ipipTunnelAddr } : {}),
        ...(vxlanTunnelAddr ? { vxlanTunnelAddr } : {}),
      });
    } else if (kv.key.startsWith(`${RESOURCES}ippools/`)) {
      pools.push({
        name: str(meta.name) ?? kv.key.slice(`${RESOURCES}ippools/`.length),
        cidr: str(spec.cidr) ?? "",
        ipipMode: mode(spec.ipipMode),
        vxlanMode: mode(spec.vxlanMode),
        natOutgoing: spec.natOutgoing === true,
        nodeSelector: str(spec.nodeSelector) ?? "all()",
        disabled: spec.disabled === true,
      });
    } else if (kv.key.startsWith(`${RESOURCES}workloadendpoints/`)) {
      const node = str(spec.node);
      const iface = str(spec.interfaceName);
      const nets = Array.isArray(spec.ipNetworks) ? spec.ipNetworks.filter((x) => typeof x === "string") : [];
      if (node && iface)
        endpoints.push({ node, interfaceName: iface, ips: nets.map((n) => n.split("/")[0]!) });
    } else if (kv.key.startsWith(`${IPAM}host/`)) {
      const m = /^\/calico\/ipam\/v2\/host\/([^/]+)\/ipv4\/block\/([^/]+)$/.exec(kv.key);
      // A pending claim or one being released does not make the block the node's yet (or any more).
      if (m && v.deleted !== true && (v.state === undefined || v.state === "confirmed"))
        affinity.set(keyCidr(m[2]!), m[1]!);
    } else if (kv.key.startsWith(`${IPAM}assignment/ipv4/block/`)) {
      if (v.deleted !== true) blockCidrs.push(str(v.cidr) ?? keyCidr(kv.key.split("/").pop()!));
    }
  }
  // Every block that exists, with the node its affinity key names; affinities without a block too.
  const cidrs = [...new Set([...blockCidrs, ...affinity.keys()])].sort();
  const blocks: BlockFact[] = cidrs.map((cidr) => {
    const node = affinity.get(cidr);
    return node ? { cidr, node } : { cidr };
  });
  return { nodes, pools, blocks, endpoints, unreadable };
}
