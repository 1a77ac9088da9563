// calicoctl-like inspection: `ipam show`, `get nodes|ippools|workloadendpoints [-o wide]`.
// Table building is pure; `inspect` reads the datastore.
import type { Datastore } from "./datastore/etcd.ts";
import {
  BLOCK_PREFIX,
  resourcePrefix,
  type AllocationBlock,
  type CalicoNode,
  type IPPool,
  type WorkloadEndpoint,
} from "./datastore/keys.ts";
import { cidrInside, cidrSize, parseCidr, usedCount } from "./ipam/block.ts";

/** Columns padded with spaces, as `calicoctl get` prints them. */
export function plainTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((v, c) => v.padEnd(widths[c] ?? 0))
      .join("   ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

/** A boxed table, as `calicoctl ipam show` prints it. */
export function boxedTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const sep = "+" + widths.map((w) => "-".repeat(w + 2)).join("+") + "+";
  const line = (cells: string[]) => "| " + cells.map((v, c) => v.padEnd(widths[c] ?? 0)).join(" | ") + " |";
  return [sep, line(header), sep, ...rows.map(line), sep].join("\n") + "\n";
}

const pct = (n: number, total: number) => `${n} (${total === 0 ? 0 : Math.round((100 * n) / total)}%)`;

export function ipamShowTable(pools: IPPool[], blocks: AllocationBlock[]): string {
  const rows: string[][] = [];
  for (const p of pools) {
    const total = Number(cidrSize(parseCidr(p.spec.cidr)));
    const mine = blocks.filter((b) => cidrInside(b.cidr, p.spec.cidr));
    const used = mine.reduce((n, b) => n + usedCount(b), 0);
    rows.push(["IP Pool", p.spec.cidr, "", String(total), pct(used, total), pct(total - used, total)]);
    for (const b of mine) {
      const size = b.allocations.length;
      const u = usedCount(b);
      rows.push([
        "Block",
        b.cidr,
        (b.affinity ?? "").replace(/^host:/, ""),
        String(size),
        pct(u, size),
        pct(size - u, size),
      ]);
    }
  }
  return boxedTable(["GROUPING", "CIDR", "NODE", "IPS TOTAL", "IPS IN USE", "IPS FREE"], rows);
}

export function nodesTable(nodes: CalicoNode[], wide: boolean, defaultAs = 64512): string {
  const rows = nodes.map((n) => {
    const bgp = n.spec.bgp ?? {};
    const asn = bgp.asNumber !== undefined ? String(bgp.asNumber) : `(${defaultAs})`;
    return wide
      ? [
          n.metadata.name,
          asn,
          bgp.ipv4Address ?? "",
          "",
          bgp.ipv4IPIPTunnelAddr ?? n.spec.ipv4VXLANTunnelAddr ?? "",
          bgp.routeReflectorClusterID ?? "",
        ]
      : [n.metadata.name];
  });
  return wide
    ? plainTable(["NAME", "ASN", "IPV4", "IPV6", "TUNNEL", "RR CLUSTER ID"], rows)
    : plainTable(["NAME"], rows);
}

export function ippoolsTable(pools: IPPool[], wide: boolean): string {
  const rows = pools.map((p) => {
    const s = p.spec;
    const base = [
      p.metadata.name,
      s.cidr,
      String(s.natOutgoing),
      s.ipipMode,
      s.vxlanMode,
      String(s.disabled ?? false),
    ];
    return wide ? [...base, "false", s.nodeSelector, `/${s.blockSize}`] : base;
  });
  const head = ["NAME", "CIDR", "NAT", "IPIPMODE", "VXLANMODE", "DISABLED"];
  return plainTable(wide ? [...head, "DISABLEBGPEXPORT", "SELECTOR", "BLOCKSIZE"] : head, rows);
}

export function workloadEndpointsTable(weps: WorkloadEndpoint[], wide: boolean): string {
  const rows = weps.map((w) => {
    const s = w.spec;
    const base = [
      w.metadata.namespace ?? "",
      w.metadata.name,
      s.pod,
      s.node,
      s.ipNetworks.join(","),
      s.interfaceName,
    ];
    return wide ? [...base, s.profiles.join(","), s.mac ?? "", s.containerID] : base;
  });
  const head = ["NAMESPACE", "NAME", "WORKLOAD", "NODE", "NETWORKS", "INTERFACE"];
  return plainTable(wide ? [...head, "PROFILES", "MAC", "CONTAINER"] : head, rows);
}

export type InspectCommand =
  { what: "ipam-show" } | { what: "nodes" | "ippools" | "workloadendpoints"; wide: boolean };

/** Parses calicoctl-like argv: `ipam show`, `get <kind> [-o wide]` (kind aliases: node, ippool, wep...). */
export function parseInspectArgs(argv: string[]): InspectCommand {
  const [verb, noun, ...rest] = argv;
  if (verb === "ipam" && noun === "show") return { what: "ipam-show" };
  if (verb === "get" && noun) {
    const wide =
      rest.join(" ") === "-o wide" || rest.join(" ") === "-owide" || rest.join(" ") === "--output=wide";
    if (rest.length > 0 && !wide) throw new Error(`unsupported options: ${rest.join(" ")} (only -o wide)`);
    const kinds: Record<string, "nodes" | "ippools" | "workloadendpoints"> = {
      node: "nodes",
      nodes: "nodes",
      ippool: "ippools",
      ippools: "ippools",
      pool: "ippools",
      workloadendpoint: "workloadendpoints",
      workloadendpoints: "workloadendpoints",
      wep: "workloadendpoints",
      weps: "workloadendpoints",
    };
    const what = kinds[noun.toLowerCase()];
    if (what) return { what, wide };
  }
  throw new Error("usage: calicoctl ipam show | calicoctl get nodes|ippools|workloadendpoints [-o wide]");
}

export async function inspect(ds: Datastore, cmd: InspectCommand): Promise<string> {
  const list = <T>(prefix: string) =>
    ds.withRetry("read", async () => (await ds.listJson<T>(prefix)).map((kv) => kv.value));
  switch (cmd.what) {
    case "ipam-show":
      return ipamShowTable(
        await list<IPPool>(resourcePrefix("ippools")),
        await list<AllocationBlock>(BLOCK_PREFIX),
      );
    case "nodes":
      return nodesTable(await list<CalicoNode>(resourcePrefix("nodes")), cmd.wide);
    case "ippools":
      return ippoolsTable(await list<IPPool>(resourcePrefix("ippools")), cmd.wide);
    case "workloadendpoints":
      return workloadEndpointsTable(
        await list<WorkloadEndpoint>(resourcePrefix("workloadendpoints")),
        cmd.wide,
      );
  }
}
