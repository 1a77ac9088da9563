// Felix's effects in the node's own network namespace (the agent runs inside it): sysctls, tunl0,
// vxlan.calico with its routes/neighbours/FDB, blackholes when BIRD is not running, natOutgoing.
// Every step compares with the kernel first and changes only what differs, so applying the same plan
// again is cheap and changes nothing. Commands are argv arrays; names are checked before use.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { run, tryRun } from "../../effects/exec.ts";
import { assertIfName } from "../../effects/names.ts";
import { IPIP_DEVICE, VXLAN_DEVICE, type DataplanePlan, type Snapshot } from "./plan.ts";
import {
  FELIX_RT_PROTO,
  felixProgram,
  natRestoreInput,
  routeArgs,
  type FelixProgram,
  type FelixRoute,
} from "./routes.ts";
import { missingFeatureMessage } from "./preflight.ts";

export interface ApplyContext {
  /** The interface holding the node's address (vxlan.calico's parent). */
  underlayIf: string;
  log: (m: string) => void;
  /** The kernel has no ipip module and the mode runs without it (crosssubnet): tunl0 is never created. */
  noIpip?: boolean;
  /** Last nat table input applied by this process (skip iptables-restore when unchanged). */
  lastNat?: string;
}

interface IpLink {
  ifname: string;
  address?: string;
  mtu: number;
  flags?: string[];
  linkinfo?: {
    info_kind?: string;
    info_data?: { id?: number; local?: string; port?: number; link?: string };
  };
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

async function ipJson<T>(args: string[]): Promise<T> {
  const out = await run(["ip", "-j", ...args]);
  return (out.trim() ? JSON.parse(out) : []) as T;
}

async function link(name: string): Promise<IpLink | undefined> {
  const r = await tryRun(["ip", "-j", "-d", "addr", "show", "dev", assertIfName(name)]);
  if (r.exitCode !== 0) return undefined;
  return (JSON.parse(r.stdout) as IpLink[])[0];
}

async function writeSysctl(path: string, value: string): Promise<void> {
  const file = `/proc/sys/${path.replace(/\./g, "/")}`;
  try {
    if ((await readFile(file, "utf8")).trim() === value) return;
  } catch {
    return; // interface gone meanwhile
  }
  await writeFile(file, value);
}

/** Calico's sysctls: forwarding on; per workload interface proxy ARP, forwarding, strict rp_filter. */
export async function applySysctls(): Promise<void> {
  await writeSysctl("net.ipv4.ip_forward", "1");
  let ifaces: string[] = [];
  try {
    ifaces = (await readdir("/proc/sys/net/ipv4/conf")).filter((i) => i.startsWith("cali"));
  } catch {
    /* no /proc/sys */
  }
  for (const i of ifaces) {
    for (const [k, v] of [
      ["proxy_arp", "1"],
      ["forwarding", "1"],
      ["rp_filter", "1"],
    ] as const) {
      await writeSysctl(`net.ipv4.conf.${i}.${k}`, v);
    }
    await writeFile(`/proc/sys/net/ipv4/neigh/${i}/proxy_delay`, "0").catch(() => undefined);
  }
}

/** Keeps exactly `cidr` on the device (removes other IPv4 addresses). */
async function exactAddress(dev: string, l: IpLink, cidr: string): Promise<void> {
  const have = (l.addr_info ?? []).filter((a) => a.family === "inet").map((a) => `${a.local}/${a.prefixlen}`);
  if (!have.includes(cidr)) await run(["ip", "addr", "replace", cidr, "dev", dev]);
  for (const a of have) if (a !== cidr) await tryRun(["ip", "addr", "del", a, "dev", dev]);
}

/** tunl0 up with its /32 and MTU; when IPIP is off, removed (or, if the kernel keeps it, down and bare). */
export async function applyIpip(plan: DataplanePlan, ctx: ApplyContext): Promise<void> {
  let l = await link(IPIP_DEVICE);
  if (!plan.ipip) {
    if (!l) return;
    const del = await tryRun(["ip", "link", "del", "dev", IPIP_DEVICE]);
    // The fallback tunl0 of a loaded ipip module cannot be deleted, and the kernel says so by ignoring the
    // request (exit 0, still there): leave it down without addresses.
    l = await link(IPIP_DEVICE);
    if (del.exitCode === 0 && !l) {
      ctx.log(`IPIP off: removed ${IPIP_DEVICE}`);
      return;
    }
    if (!l) return;
    if ((l.addr_info ?? []).length > 0 || l.flags?.includes("UP")) {
      await tryRun(["ip", "addr", "flush", "dev", IPIP_DEVICE]);
      await run(["ip", "link", "set", "dev", IPIP_DEVICE, "down"]);
      ctx.log(`IPIP off: ${IPIP_DEVICE} cannot be deleted by this kernel; set down, addresses removed`);
    }
    return;
  }
  // Degraded (see preflight's degradable): said once at startup; never a fake tunl0.
  if (!l && ctx.noIpip) return;
  if (!l) {
    const add = await tryRun(["ip", "link", "add", "name", IPIP_DEVICE, "type", "ipip"]);
    if (add.exitCode !== 0) throw new Error(missingFeatureMessage("ipip", "ipip", add.stderr));
    ctx.log(`created ${IPIP_DEVICE}`);
    l = (await link(IPIP_DEVICE))!;
  }
  if (l.mtu !== plan.ipip.mtu)
    await run(["ip", "link", "set", "dev", IPIP_DEVICE, "mtu", String(plan.ipip.mtu)]);
  if (!l.flags?.includes("UP")) await run(["ip", "link", "set", "dev", IPIP_DEVICE, "up"]);
  await exactAddress(IPIP_DEVICE, l, `${plan.ipip.address}/32`);
}

/** vxlan.calico: VNI 4096, UDP 4789, this node's VTEP MAC, MTU, its /32; deleted when no VXLAN pool applies. */
export async function applyVxlanDevice(plan: DataplanePlan, ctx: ApplyContext): Promise<void> {
  let l = await link(VXLAN_DEVICE);
  const v = plan.vxlan;
  if (!v) {
    if (l) {
      await run(["ip", "link", "del", "dev", VXLAN_DEVICE]);
      ctx.log(`VXLAN off: removed ${VXLAN_DEVICE}`);
    }
    return;
  }
  const d = l?.linkinfo?.info_data;
  if (
    l &&
    (l.linkinfo?.info_kind !== "vxlan" ||
      d?.id !== v.vni ||
      d?.port !== v.port ||
      d?.local !== plan.address.ip)
  ) {
    ctx.log(`${VXLAN_DEVICE} has the wrong parameters: recreating it`);
    await run(["ip", "link", "del", "dev", VXLAN_DEVICE]);
    l = undefined;
  }
  if (!l) {
    await run([
      "ip", "link", "add", VXLAN_DEVICE, "type", "vxlan", "id", String(v.vni), "local", plan.address.ip,
      "dev", assertIfName(ctx.underlayIf), "dstport", String(v.port), "nolearning",
    ]); // prettier-ignore
    ctx.log(`created ${VXLAN_DEVICE} (VNI ${v.vni}, UDP ${v.port}, MAC ${v.mac})`);
    l = (await link(VXLAN_DEVICE))!;
  }
  if (l.address !== v.mac) await run(["ip", "link", "set", "dev", VXLAN_DEVICE, "address", v.mac]);
  if (l.mtu !== v.mtu) await run(["ip", "link", "set", "dev", VXLAN_DEVICE, "mtu", String(v.mtu)]);
  if (!l.flags?.includes("UP")) await run(["ip", "link", "set", "dev", VXLAN_DEVICE, "up"]);
  await exactAddress(VXLAN_DEVICE, l, `${v.address}/32`);
}

interface IpRoute {
  dst: string;
  type?: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  flags?: string[];
}

const hostDst = (dst: string) => (dst.includes("/") ? dst : `${dst}/32`);

/** Felix's routes (proto 80), neighbours and FDB entries: add what is missing, delete what is stale. */
export async function applyFelixProgram(prog: FelixProgram, hasVxlan: boolean): Promise<string[]> {
  const changes: string[] = [];
  const have = await ipJson<IpRoute[]>(["route", "show", "proto", FELIX_RT_PROTO]);
  const haveKey = new Set(
    have.map((r) =>
      [hostDst(r.dst), r.type === "blackhole" ? "blackhole" : `${r.gateway ?? ""}@${r.dev ?? ""}`].join(" "),
    ),
  );
  const wantKey = (r: FelixRoute) => `${r.dst} ${r.blackhole ? "blackhole" : `${r.via}@${r.dev}`}`;
  const batch: string[] = [];
  for (const r of prog.routes) {
    if (haveKey.has(wantKey(r))) continue;
    batch.push(["route", "replace", ...routeArgs(r)].join(" "));
    changes.push(`route ${routeArgs(r).join(" ")}`);
  }
  const wanted = new Set(prog.routes.map((r) => r.dst));
  for (const r of have) {
    if (wanted.has(hostDst(r.dst))) continue;
    const type = r.type === "blackhole" ? ["blackhole"] : [];
    batch.push(["route", "del", ...type, hostDst(r.dst), "proto", FELIX_RT_PROTO].join(" "));
    changes.push(`route del ${r.dst}`);
  }
  if (hasVxlan) {
    const neigh = await ipJson<{ dst: string; lladdr?: string; state?: string[] }[]>([
      "neigh", "show", "dev", VXLAN_DEVICE,
    ]); // prettier-ignore
    for (const n of prog.neigh) {
      if (neigh.some((x) => x.dst === n.ip && x.lladdr === n.mac && x.state?.includes("PERMANENT"))) continue;
      batch.push(`neigh replace ${n.ip} lladdr ${n.mac} dev ${VXLAN_DEVICE} nud permanent`);
      changes.push(`neigh ${n.ip} ${n.mac}`);
    }
    for (const x of neigh) {
      if (prog.neigh.some((n) => n.ip === x.dst)) continue;
      batch.push(`neigh del ${x.dst} dev ${VXLAN_DEVICE}`);
      changes.push(`neigh del ${x.dst}`);
    }
  }
  if (batch.length > 0) await run(["ip", "-force", "-batch", "-"], { input: batch.join("\n") + "\n" });
  if (hasVxlan) {
    const fdb = JSON.parse(
      (await run(["bridge", "-j", "fdb", "show", "dev", VXLAN_DEVICE])).trim() || "[]",
    ) as { mac: string; dst?: string }[];
    const fb: string[] = [];
    for (const f of prog.fdb) {
      if (fdb.some((x) => x.mac === f.mac && x.dst === f.dst)) continue;
      fb.push(`fdb replace ${f.mac} dev ${VXLAN_DEVICE} dst ${f.dst} self permanent`);
      changes.push(`fdb ${f.mac} → ${f.dst}`);
    }
    for (const x of fdb) {
      if (!x.dst || prog.fdb.some((f) => f.mac === x.mac && f.dst === x.dst)) continue;
      fb.push(`fdb del ${x.mac} dev ${VXLAN_DEVICE} dst ${x.dst} self`);
      changes.push(`fdb del ${x.mac} ${x.dst}`);
    }
    if (fb.length > 0) await run(["bridge", "-force", "-batch", "-"], { input: fb.join("\n") + "\n" });
  }
  return changes;
}

/** natOutgoing: cali-POSTROUTING hooked from POSTROUTING, cali-nat-outgoing rewritten as a whole. */
export async function applyNat(plan: DataplanePlan, ctx: ApplyContext): Promise<void> {
  const input = natRestoreInput(plan);
  const hooked = async () =>
    (await tryRun(["iptables", "-w", "-t", "nat", "-C", "POSTROUTING", "-j", "cali-POSTROUTING"]))
      .exitCode === 0;
  // Unchanged and still hooked (nobody flushed the table): nothing to do.
  if (ctx.lastNat === input && (await hooked())) return;
  await run(["iptables-restore", "-w", "--noflush"], { input });
  if (!(await hooked()))
    await run(["iptables", "-w", "-t", "nat", "-I", "POSTROUTING", "1", "-j", "cali-POSTROUTING"]);
  if (ctx.lastNat !== input)
    ctx.log(`natOutgoing: ${plan.natOutgoingPools.join(", ") || "no pool"} masqueraded`);
  ctx.lastNat = input;
}

/** The whole Felix apply for one plan. */
export async function applyDataplane(
  snapshot: Snapshot,
  plan: DataplanePlan,
  ctx: ApplyContext,
): Promise<void> {
  await applySysctls();
  await applyIpip(plan, ctx);
  await applyVxlanDevice(plan, ctx);
  const changes = await applyFelixProgram(felixProgram(snapshot, plan, ctx.underlayIf), Boolean(plan.vxlan));
  if (changes.length > 0) ctx.log(`felix: ${changes.join("; ")}`);
  await applyNat(plan, ctx);
}

/** The interface that holds `ip` in this namespace. */
export async function interfaceWithAddress(ip: string): Promise<string> {
  const links = await ipJson<IpLink[]>(["addr", "show"]);
  const l = links.find((x) => (x.addr_info ?? []).some((a) => a.family === "inet" && a.local === ip));
  if (!l) throw new Error(`no interface in this namespace holds ${ip}`);
  return l.ifname;
}
