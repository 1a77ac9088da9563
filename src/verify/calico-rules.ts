// What a Calico node's kernel must show, from the datastore's facts and Calico's documented rules alone.
// Written apart from the agent on purpose (nothing here comes from src/agent): verification that asked the
// agent's own planner would pass the agent's own bugs. Pure; the rules are the table ROUTE_RULES below.
//
// Calico's facts this follows (docs "Overlay networking", "Configure IP-in-IP/VXLAN", felix and confd):
// - A node owns the blocks affine to it (`/calico/ipam/v2/host/<node>/ipv4/block/<cidr>`, state confirmed);
//   its BIRD advertises them and keeps a blackhole route for each (felix does, proto 80, when no BIRD runs).
// - A remote block's route follows the pool it lies in: VXLAN (Always, or CrossSubnet to another subnet)
//   → felix's `via <remote VTEP> dev vxlan.calico onlink`; IP-in-IP (Always, or CrossSubnet to another
//   subnet) → BIRD's `via <node IP> dev tunl0 onlink`; otherwise BIRD's `via <node IP> dev <underlay>`.
// - Each local workload endpoint has a /32 route to its host-side interface (cali…), scope link.
// - tunl0 carries the node's ipv4IPIPTunnelAddr as a /32 when an IP-in-IP pool selects it; vxlan.calico its
//   ipv4VXLANTunnelAddr, VNI 4096, UDP port 4789. Default MTUs: 1440 (IP-in-IP), 1410 (VXLAN).
// - BIRD runs unless every pool selecting the node is VXLAN-only.

export type EncapMode = "Always" | "CrossSubnet" | "Never";

/** One Calico Node resource, as verification needs it. */
export interface NodeFact {
  name: string;
  labels: Record<string, string>;
  /** bgp.ipv4Address: "a.b.c.d/len". */
  ipv4Address?: string;
  ipipTunnelAddr?: string;
  vxlanTunnelAddr?: string;
}

export interface PoolFact {
  name: string;
  cidr: string;
  ipipMode: EncapMode;
  vxlanMode: EncapMode;
  natOutgoing: boolean;
  nodeSelector: string;
  disabled: boolean;
}

/** A block and the node it is affine to (from the host affinity key), if any. */
export interface BlockFact {
  cidr: string;
  node?: string;
}

export interface EndpointFact {
  node: string;
  /** The host-side interface (cali…). */
  interfaceName: string;
  /** Bare addresses (the /32 dropped). */
  ips: string[];
}

export interface DatastoreFacts {
  nodes: NodeFact[];
  pools: PoolFact[];
  blocks: BlockFact[];
  endpoints: EndpointFact[];
}

export const IPIP_DEVICE = "tunl0";
export const VXLAN_DEVICE = "vxlan.calico";
export const VXLAN_VNI = 4096;
export const VXLAN_PORT = 4789;
export const IPIP_MTU = 1440;
export const VXLAN_MTU = 1410;

export type RouteKind = "vxlan" | "ipip" | "plain" | "blackhole-bird" | "blackhole-felix" | "workload";

/** Calico's route per kind: the `ip route show` line, and the rule it comes from. */
export const ROUTE_RULES: Record<
  RouteKind,
  { line: (r: { dst: string; via?: string; dev?: string }) => string; rule: string }
> = {
  vxlan: {
    line: (r) => `${r.dst} via ${r.via} dev ${VXLAN_DEVICE} proto 80 onlink`,
    rule: "remote block in a VXLAN pool: felix routes it to the owner's VTEP",
  },
  ipip: {
    line: (r) => `${r.dst} via ${r.via} dev ${IPIP_DEVICE} proto bird onlink`,
    rule: "remote block in an IP-in-IP pool: BIRD routes it through tunl0 to the owner",
  },
  plain: {
    line: (r) => `${r.dst} via ${r.via} dev ${r.dev} proto bird`,
    rule: "remote block without encapsulation: BIRD routes it to the owner on the underlay",
  },
  "blackhole-bird": {
    line: (r) => `blackhole ${r.dst} proto bird`,
    rule: "own block: BIRD's static blackhole, advertised to peers",
  },
  "blackhole-felix": {
    line: (r) => `blackhole ${r.dst} proto 80`,
    rule: "own block, no BIRD: felix's blackhole",
  },
  workload: {
    line: (r) => `${r.dst} dev ${r.dev} scope link`,
    rule: "local workload endpoint: a /32 to its host-side interface",
  },
};

/** Which encapsulation a pool asks for between two nodes: the table of Calico's modes. */
export function encapsulationFor(pool: Pick<PoolFact, "ipipMode" | "vxlanMode">, crossSubnet: boolean) {
  const applies = (m: EncapMode) => m === "Always" || (m === "CrossSubnet" && crossSubnet);
  if (applies(pool.vxlanMode)) return "vxlan" as const;
  if (applies(pool.ipipMode)) return "ipip" as const;
  return "plain" as const;
}

export interface ExpectedRoute {
  line: string;
  /** The destination as `ip route` prints it (a /32 without its length). */
  dst: string;
  kind: RouteKind;
  /** Why: the rule and the facts it was applied to. */
  why: string;
}

export interface HostExpectation {
  routes: ExpectedRoute[];
  tunl0?: { address: string; mtu: number };
  vxlan?: { address: string; mtu: number; vni: number; port: number };
  bird: boolean;
}

// ---- IPv4 arithmetic (small, exact) ----

function ipToInt(ip: string): number {
  const p = ip.split(".").map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255))
    throw new Error(`invalid IPv4 address "${ip}"`);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

function parseCidr(cidr: string): { base: number; len: number } {
  const [ip, len] = cidr.split("/");
  const n = Number(len ?? 32);
  if (!Number.isInteger(n) || n < 0 || n > 32) throw new Error(`invalid CIDR "${cidr}"`);
  return { base: ipToInt(ip!), len: n };
}

const mask = (len: number) => (len === 0 ? 0 : (~0 << (32 - len)) >>> 0);

/** Whether `inner` (an address or CIDR) lies inside `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  return i.len >= o.len && (i.base & mask(o.len)) >>> 0 === (o.base & mask(o.len)) >>> 0;
}

/** Whether `other` is on the subnet of `addressWithLen` (a node's bgp.ipv4Address). */
export function onSubnet(addressWithLen: string, other: string): boolean {
  const { base, len } = parseCidr(addressWithLen);
  return cidrContains(`${intToIp((base & mask(len)) >>> 0)}/${len}`, other);
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

// ---- selectors (the subset Calico pools use here: all(), has(k), !has(k), k == 'v', k != 'v', &&) ----

export function selectorMatches(selector: string, labels: Record<string, string>): boolean {
  const s = selector.trim();
  if (s === "" || s === "all()") return true;
  return s.split("&&").every((term) => {
    const t = term.trim();
    let m = /^has\(\s*([\w./-]+)\s*\)$/.exec(t);
    if (m) return m[1]! in labels;
    m = /^!\s*has\(\s*([\w./-]+)\s*\)$/.exec(t);
    if (m) return !(m[1]! in labels);
    m = /^([\w./-]+)\s*(==|!=)\s*(["'])(.*)\3$/.exec(t);
    if (m) return (labels[m[1]!] === m[4]) === (m[2] === "==");
    if (t === "all()") return true;
    throw new Error(`selector "${selector}": verification cannot read the term "${t}"`);
  });
}

const bareIp = (ip: string) => ip.split("/")[0]!;

/** A node's routes and devices, by Calico's rules. Throws (with the fact that is missing) if it cannot. */
export function expectHost(facts: DatastoreFacts, nodeName: string, underlayIf: string): HostExpectation {
  const me = facts.nodes.find((n) => n.name === nodeName);
  if (!me) throw new Error(`node ${nodeName} is not in the datastore (no Node resource)`);
  if (!me.ipv4Address) throw new Error(`node ${nodeName} has no bgp.ipv4Address in the datastore`);
  const enabled = facts.pools.filter((p) => !p.disabled);
  const mine = enabled.filter((p) => selectorMatches(p.nodeSelector, me.labels));
  const bird = mine.length === 0 || mine.some((p) => p.vxlanMode === "Never");
  const routes: ExpectedRoute[] = [];
  const push = (kind: RouteKind, dst: string, why: string, via?: string, dev?: string) =>
    routes.push({
      kind,
      dst,
      line: ROUTE_RULES[kind].line({ dst, via, dev }),
      why: `${ROUTE_RULES[kind].rule}: ${why}`,
    });

  for (const b of facts.blocks) {
    if (!b.node) continue;
    if (b.node === nodeName) {
      push(bird ? "blackhole-bird" : "blackhole-felix", b.cidr, `${b.cidr} is affine to ${nodeName}`);
      continue;
    }
    const owner = facts.nodes.find((n) => n.name === b.node);
    const pool = enabled.find((p) => cidrContains(p.cidr, b.cidr));
    if (!owner?.ipv4Address || !pool) continue;
    const ownerIp = bareIp(owner.ipv4Address);
    const cross = !onSubnet(me.ipv4Address, ownerIp);
    const encap = encapsulationFor(pool, cross);
    const where = `${b.cidr} is affine to ${owner.name} (${ownerIp}${cross ? ", another subnet" : ""}), pool ${pool.name} ipipMode ${pool.ipipMode} vxlanMode ${pool.vxlanMode}`;
    if (encap === "vxlan") push("vxlan", b.cidr, where, owner.vxlanTunnelAddr ?? "(no ipv4VXLANTunnelAddr)");
    else if (encap === "ipip") push("ipip", b.cidr, where, ownerIp);
    else push("plain", b.cidr, where, ownerIp, underlayIf);
  }
  for (const e of facts.endpoints) {
    if (e.node !== nodeName) continue;
    for (const ip of e.ips)
      push("workload", bareIp(ip), `workload endpoint on ${e.interfaceName}`, undefined, e.interfaceName);
  }
  routes.sort((a, b) => a.line.localeCompare(b.line));

  const out: HostExpectation = { routes, bird };
  if (mine.some((p) => p.ipipMode !== "Never") && me.ipipTunnelAddr)
    out.tunl0 = { address: bareIp(me.ipipTunnelAddr), mtu: IPIP_MTU };
  if (mine.some((p) => p.vxlanMode !== "Never") && me.vxlanTunnelAddr)
    out.vxlan = { address: bareIp(me.vxlanTunnelAddr), mtu: VXLAN_MTU, vni: VXLAN_VNI, port: VXLAN_PORT };
  return out;
}

/** The destination of an `ip route show` line ("blackhole 10.0.0.0/26 …" → 10.0.0.0/26). */
export function routeDestination(line: string): string {
  const w = line.split(" ");
  return (["blackhole", "unreachable", "prohibit", "local", "broadcast"].includes(w[0]!) ? w[1] : w[0]) ?? "";
}

/**
 * Routes the kernel has into an enabled pool that Calico's rules do not explain: a stale tunl0 route
 * after a mode change, a second route to a block, a route to a pod that is gone. `tolerated` destinations
 * (those whose route cannot be checked here) are left out.
 */
export function unexplainedRoutes(
  facts: DatastoreFacts,
  expected: readonly ExpectedRoute[],
  actual: readonly string[],
  tolerated: ReadonlySet<string> = new Set(),
): string[] {
  const want = new Set(expected.map((r) => r.line));
  const pools = facts.pools.filter((p) => !p.disabled).map((p) => p.cidr);
  return actual.filter((line) => {
    if (want.has(line)) return false;
    const dst = routeDestination(line);
    if (!/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(dst) || tolerated.has(dst)) return false;
    return pools.some((p) => cidrContains(p, dst));
  });
}
