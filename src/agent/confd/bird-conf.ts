// Renders BIRD 2 configuration for one node, the way Calico's confd renders its BIRD templates:
// router id = node IP; this node's IPAM blocks as blackhole statics (exported to peers and the kernel);
// pool routes accepted from peers and exported onwards, more-specifics (the /32s of local pods) rejected;
// kernel programming per pool encapsulation (IPIP Always / CrossSubnet / Never). Pure.
import type { IPPoolSpec } from "../datastore/keys.ts";
import type { LocalBgp, PeerPlan } from "./peers.ts";

export interface BirdTimers {
  /** Seconds before the first connect and between retries: ~1 s sessions instead of BIRD's 5 s default. */
  connectRetry: number;
  holdTime: number;
  keepaliveTime: number;
  kernelScan: number;
  /**
   * Seconds a BIRD started in graceful restart recovery (`bird -R`) waits for its BGP sessions before it
   * syncs the kernel table anyway. Until then it installs and removes nothing, so BIRD's default (240 s,
   * which Calico keeps) left a node whose one peer is down (an outside router, a BGPPeer to nobody)
   * without any new route for four minutes after each BIRD start. Mesh sessions come back in ~1 s.
   */
  gracefulRestartWait: number;
}

export const FAST_TIMERS: BirdTimers = {
  connectRetry: 1,
  holdTime: 9,
  keepaliveTime: 3,
  kernelScan: 2,
  gracefulRestartWait: 10,
};

export interface BirdConfInput {
  local: LocalBgp;
  peers: readonly PeerPlan[];
  /** Enabled pools, in datastore order. */
  pools: readonly Pick<IPPoolSpec, "cidr" | "ipipMode" | "vxlanMode" | "disabled">[];
  /** CIDRs of the blocks affine to this node. */
  blocks: readonly string[];
  timers?: BirdTimers;
  tunnelDevice?: string;
}

/** The IP-in-IP kernel route: `<block> via <node> dev tunl0 proto bird onlink`. */
function tunnelRoute(dev: string): string {
  return `onlink = true; ifname = "${dev}"; gw = bgp_next_hop;`;
}

function localSubnet(local: LocalBgp): string {
  const parts = local.ip.split(".").map(Number);
  const bits = local.prefixLength;
  const n = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const net = (n & mask) >>> 0;
  return `${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${bits}`;
}

export function renderBirdConf(input: BirdConfInput): string {
  const t = input.timers ?? FAST_TIMERS;
  const dev = input.tunnelDevice ?? "tunl0";
  const pools = input.pools.filter((p) => !p.disabled);
  const L: string[] = [];
  const add = (...lines: string[]) => L.push(...lines);

  add(
    `# BIRD 2 configuration for node ${input.local.name}, rendered by calico-lab's confd. Do not edit:`,
    "# it is rewritten from the datastore (nodes, IP pools, BGP configuration and peers) on every change.",
    `router id ${input.local.ip};`,
    "timeformat protocol iso short;",
    "# Started with -R after a crash: keep the kernel's routes until the sessions are back, at most this long.",
    `graceful restart wait ${t.gracefulRestartWait};`,
    "",
    "protocol device {",
    `  scan time ${t.kernelScan};`,
    "}",
    "",
    "# Connected networks, so that BGP next hops resolve. Pod interfaces are not networks.",
    "protocol direct {",
    "  ipv4;",
    `  interface -"cali*", -"kube-ipvs*", -"vxlan.calico", -"${dev}", "*";`,
    "}",
    "",
    "# This node's IPAM blocks: the routes it originates.",
    "protocol static static_blocks {",
    "  ipv4;",
  );
  for (const b of input.blocks) add(`  route ${b} blackhole;`);
  add("}", "");

  add("# What peers get: pool routes this node originates or reflects; never the /32s of local pods.");
  add("filter calico_export_to_bgp_peers {");
  for (const p of pools) {
    add(`  if ( net ~ [ ${p.cidr}+ ] ) then {`);
    add("    if ( source = RTS_STATIC || source = RTS_BGP ) then accept;");
    add("  }");
  }
  add("  reject;", "}", "");

  add("# What the kernel gets: own blocks as blackholes, remote blocks per the pool's encapsulation.");
  add("filter calico_kernel_programming {");
  add("  if ( source = RTS_STATIC ) then accept;");
  add("  if ( source != RTS_BGP ) then reject;");
  for (const p of pools) {
    if (p.ipipMode === "Always") {
      add(
        `  if ( net ~ [ ${p.cidr}+ ] ) then {`,
        `    # IPIP Always`,
        `    ${tunnelRoute(dev)}`,
        "    accept;",
        "  }",
      );
    } else if (p.ipipMode === "CrossSubnet") {
      add(
        `  if ( net ~ [ ${p.cidr}+ ] ) then {`,
        `    # IPIP CrossSubnet: encapsulate only when the next hop is outside ${localSubnet(input.local)}`,
        `    if ( bgp_next_hop !~ ${localSubnet(input.local)} ) then { ${tunnelRoute(dev)} }`,
        "    accept;",
        "  }",
      );
    }
  }
  add("  accept;", "}", "");

  add(
    "protocol kernel {",
    "  ipv4 {",
    "    import all;",
    "    export filter calico_kernel_programming;",
    "  };",
    "  learn;",
    "  merge paths on;",
    "  graceful restart;",
    "  metric 0;",
    `  scan time ${t.kernelScan};`,
    "}",
    "",
  );

  for (const p of input.peers) {
    add(`protocol bgp ${p.name} {`);
    add(`  description "${p.type}";`);
    add(`  local ${input.local.ip} as ${input.local.asNumber};`);
    add(`  neighbor ${p.ip} as ${p.asNumber};`);
    add(p.direct ? "  direct;" : "  multihop;");
    if (p.rrClient && input.local.rrClusterID) {
      add("  rr client;", `  rr cluster id ${input.local.rrClusterID};`);
    }
    add(
      "  ipv4 {",
      "    import all;",
      "    export filter calico_export_to_bgp_peers;",
      p.direct ? "    gateway direct;" : "    gateway recursive;",
      "  };",
      "  graceful restart;",
      `  connect delay time ${t.connectRetry};`,
      `  connect retry time ${t.connectRetry};`,
      `  error wait time ${t.connectRetry}, ${Math.max(t.connectRetry * 5, 5)};`,
      `  hold time ${t.holdTime};`,
      `  keepalive time ${t.keepaliveTime};`,
      "}",
      "",
    );
  }
  return L.join("\n");
}
