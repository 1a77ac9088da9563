// The routes, neighbours and FDB entries Felix itself programs (not BIRD), and the iptables-restore
// input for natOutgoing. Pure: the effects side (dataplane.ts) diffs these against the kernel.
import { IPv4CidrRange } from "ip-num";
import type { DataplanePlan, Snapshot } from "./plan.ts";
import { nodeAddress, VXLAN_DEVICE, natOutgoingRules } from "./plan.ts";
import { sameSubnet } from "../confd/peers.ts";
import { parseSelector } from "../confd/selector.ts";

/** Felix's route protocol number (RTPROT 80), so its routes are told apart from BIRD's and the kernel's. */
export const FELIX_RT_PROTO = "80";

export interface FelixRoute {
  dst: string;
  /** A blackhole (this node's own block) … */
  blackhole?: true;
  /** … or a gateway on a device. */
  via?: string;
  dev?: string;
  onlink?: true;
}

/** `ip route replace` arguments for a route (argv; also one line of an `ip -batch` file). */
export function routeArgs(r: FelixRoute): string[] {
  const head = r.blackhole ? ["blackhole", r.dst] : [r.dst, "via", r.via!, "dev", r.dev!];
  return [...head, ...(r.onlink ? ["onlink"] : []), "proto", FELIX_RT_PROTO];
}

export interface NeighEntry {
  ip: string;
  mac: string;
}

export interface FdbEntry {
  mac: string;
  dst: string;
}

export interface FelixProgram {
  routes: FelixRoute[];
  neigh: NeighEntry[];
  fdb: FdbEntry[];
}

const affinityNode = (a: string | null) => (a?.startsWith("host:") ? a.slice(5) : undefined);
const within = (cidr: string, pool: string) =>
  IPv4CidrRange.fromCidr(pool).contains(IPv4CidrRange.fromCidr(cidr));

/**
 * Felix's share of the routing table:
 * - VXLAN: `<remote block> via <peer tunnel IP> dev vxlan.calico onlink`, a permanent neighbour entry for
 *   the peer's tunnel IP (its VTEP MAC) and an FDB entry sending that MAC to the peer's underlay address;
 * - without BIRD (every pool VXLAN): this node's blocks as blackholes, and for VXLAN CrossSubnet pools the
 *   same-subnet peers' blocks routed directly over the underlay (BIRD would have done both).
 */
export function felixProgram(snapshot: Snapshot, plan: DataplanePlan, underlayIf: string): FelixProgram {
  const out: FelixProgram = { routes: [], neigh: [], fdb: [] };
  if (plan.vxlan) {
    for (const p of plan.vxlan.peers) {
      out.neigh.push({ ip: p.tunnelIP, mac: p.mac });
      out.fdb.push({ mac: p.mac, dst: p.nodeIP });
      for (const b of p.blocks) out.routes.push({ dst: b, via: p.tunnelIP, dev: VXLAN_DEVICE, onlink: true });
    }
  }
  if (!plan.bird) {
    const me = snapshot.nodes.find((n) => n.metadata.name === plan.node)!;
    const myPools = snapshot.pools.filter(
      (p) => !p.spec.disabled && parseSelector(p.spec.nodeSelector || "all()")(me.metadata.labels ?? {}),
    );
    const routed = new Set(out.routes.map((r) => r.dst));
    for (const b of snapshot.blocks) {
      const owner = affinityNode(b.affinity);
      if (!owner) continue;
      const pool = myPools.find((p) => within(b.cidr, p.spec.cidr));
      if (!pool) continue;
      if (owner === plan.node) {
        out.routes.push({ dst: b.cidr, blackhole: true });
        continue;
      }
      if (routed.has(b.cidr) || pool.spec.vxlanMode !== "CrossSubnet") continue;
      const other = snapshot.nodes.find((n) => n.metadata.name === owner);
      const oa = other && nodeAddress(other);
      if (oa && sameSubnet(plan.address.ip, plan.address.prefixLength, oa.ip))
        out.routes.push({ dst: b.cidr, via: oa.ip, dev: underlayIf });
    }
  }
  out.routes.sort((a, b) => (a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0));
  return out;
}

export const NAT_CHAINS = ["cali-POSTROUTING", "cali-nat-outgoing"] as const;

/**
 * `iptables-restore --noflush` input for the nat table: declaring a chain flushes it, so applying this
 * again replaces the rules instead of appending (idempotent); other chains are left alone.
 */
export function natRestoreInput(plan: Pick<DataplanePlan, "natOutgoingPools" | "allPools">): string {
  return ["*nat", ...NAT_CHAINS.map((c) => `:${c} - [0:0]`), ...natOutgoingRules(plan), "COMMIT", ""].join(
    "\n",
  );
}
