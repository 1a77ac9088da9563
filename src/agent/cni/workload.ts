// The namespace plumbing of a workload endpoint, as Calico's CNI plugin does it:
//   host side  caliXXXXXXXXXXX: MAC ee:ee:ee:ee:ee:ee, no IP, proxy_arp=1, forwarding=1, route <podIP>/32 scope link,
//              and a permanent neighbour <podIP> lladdr <pod MAC> (Felix's static ARP entry)
//   pod side   eth0: <podIP>/32, 169.254.1.1 dev eth0 scope link, default via 169.254.1.1
// Every command names its namespace; nothing here touches the root namespace.
import { readdir, readlink, stat } from "node:fs/promises";
import { assertIfName, assertNetnsName } from "../../effects/names.ts";
import { inNetns, run, tryRun } from "../../effects/exec.ts";
import { linkExists, deleteLink } from "../../effects/links.ts";

export const HOST_VETH_MAC = "ee:ee:ee:ee:ee:ee";
export const POD_GATEWAY = "169.254.1.1";

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
function assertIpv4(ip: string): string {
  const m = IPV4.exec(ip);
  if (!m || m.slice(1).some((o) => Number(o) > 255)) throw new Error(`invalid IPv4 address "${ip}"`);
  return ip;
}

/** The name of the named namespace this process runs in, or null (e.g. the root namespace). */
export async function currentNetnsName(): Promise<string | null> {
  const self = await readlink("/proc/self/ns/net");
  let names: string[] = [];
  try {
    names = await readdir("/run/netns");
  } catch {
    return null;
  }
  for (const n of names) {
    try {
      if (self === `net:[${(await stat(`/run/netns/${n}`)).ino}]`) return n;
    } catch {
      /* gone */
    }
  }
  return null;
}

export interface WorkloadSpec {
  hostNetns: string;
  podNetns: string;
  hostIf: string;
  podIf: string;
  ip: string;
  mtu: number;
}

async function sysctl(netns: string, key: string, value: string): Promise<void> {
  await run(inNetns(netns, ["sysctl", "-q", "-w", `${key}=${value}`]));
}

/** Creates the veth pair and routes. Returns the pod side's MAC. */
export async function setupWorkload(w: WorkloadSpec): Promise<{ podMac: string }> {
  const host = assertNetnsName(w.hostNetns);
  const pod = assertNetnsName(w.podNetns);
  const hif = assertIfName(w.hostIf);
  const pif = assertIfName(w.podIf);
  const ip = assertIpv4(w.ip);
  const mtu = String(w.mtu);
  if (await linkExists(host, hif)) await deleteLink(host, hif); // a leftover from an earlier attempt
  await run([
    "ip",
    "-n",
    host,
    "link",
    "add",
    hif,
    "mtu",
    mtu,
    "type",
    "veth",
    "peer",
    "name",
    pif,
    "netns",
    pod,
  ]);
  // Host side: the well-known MAC, proxy ARP answers 169.254.1.1 for the pod, forwarding on.
  await run(["ip", "-n", host, "link", "set", "dev", hif, "address", HOST_VETH_MAC]);
  await sysctl(host, `net.ipv4.conf.${hif}.proxy_arp`, "1");
  await sysctl(host, `net.ipv4.neigh.${hif}.proxy_delay`, "0");
  await sysctl(host, `net.ipv4.conf.${hif}.forwarding`, "1");
  await run(["ip", "-n", host, "link", "set", "dev", hif, "up"]);
  // Pod side.
  await run(["ip", "-n", pod, "link", "set", "dev", "lo", "up"]);
  await run(["ip", "-n", pod, "addr", "add", `${ip}/32`, "dev", pif]);
  // The peer does not inherit the MTU given at creation: the pod side is what must fit the tunnel.
  await run(["ip", "-n", pod, "link", "set", "dev", pif, "mtu", mtu, "up"]);
  await run(["ip", "-n", pod, "route", "replace", POD_GATEWAY, "dev", pif, "scope", "link"]);
  await run(["ip", "-n", pod, "route", "replace", "default", "via", POD_GATEWAY, "dev", pif]);
  // Host route to the pod.
  await run(["ip", "-n", host, "route", "replace", `${ip}/32`, "dev", hif, "scope", "link"]);
  const link = JSON.parse(await run(["ip", "-n", pod, "-j", "link", "show", "dev", pif])) as {
    address: string;
  }[];
  const podMac = link[0]?.address ?? "";
  // A static ARP entry for the pod, as Felix programs one for each local workload: the host never ARPs
  // for its pods, and permanent entries do not count against the kernel's neighbour table limit
  // (gc_thresh3, one table for all namespaces: a 50-host lab overflowed it with dynamic entries).
  await run(["ip", "-n", host, "neigh", "replace", ip, "lladdr", podMac, "dev", hif, "nud", "permanent"]);
  return { podMac };
}

/** Removes the pair (deleting one end removes both and the host route). Nothing there: nothing to do. */
export async function teardownWorkload(w: {
  hostNetns: string;
  hostIf: string;
  podNetns?: string;
  podIf?: string;
}): Promise<void> {
  await deleteLink(w.hostNetns, w.hostIf);
  if (w.podNetns && w.podIf) {
    const podNs = assertNetnsName(w.podNetns);
    const r = await tryRun(["ip", "netns", "list"]);
    if (r.stdout.split("\n").some((l) => l.split(" ")[0] === podNs)) await deleteLink(podNs, w.podIf);
  }
}

interface RouteJson {
  dst: string;
  gateway?: string;
  dev?: string;
  scope?: string;
}

/** What CHECK verifies; returns the problems found (empty: all good). */
export async function checkWorkload(w: WorkloadSpec): Promise<string[]> {
  const problems: string[] = [];
  const host = assertNetnsName(w.hostNetns);
  const pod = assertNetnsName(w.podNetns);
  if (!(await linkExists(host, w.hostIf))) problems.push(`host interface ${w.hostIf} missing`);
  else {
    const [l] = JSON.parse(await run(["ip", "-n", host, "-j", "link", "show", "dev", w.hostIf])) as {
      address: string;
    }[];
    if (l?.address !== HOST_VETH_MAC)
      problems.push(`${w.hostIf} MAC is ${l?.address}, want ${HOST_VETH_MAC}`);
  }
  if (!(await linkExists(pod, w.podIf))) return [...problems, `pod interface ${w.podIf} missing`];
  const addrs = JSON.parse(await run(["ip", "-n", pod, "-j", "-4", "addr", "show", "dev", w.podIf])) as {
    addr_info: { local: string; prefixlen: number }[];
  }[];
  if (!addrs[0]?.addr_info.some((a) => a.local === w.ip && a.prefixlen === 32))
    problems.push(`${w.podIf} lacks ${w.ip}/32`);
  const podRoutes = JSON.parse(await run(["ip", "-n", pod, "-j", "-4", "route", "show"])) as RouteJson[];
  if (!podRoutes.some((r) => r.dst === POD_GATEWAY && r.dev === w.podIf && r.scope === "link")) {
    problems.push(`pod route ${POD_GATEWAY} dev ${w.podIf} scope link missing`);
  }
  if (!podRoutes.some((r) => r.dst === "default" && r.gateway === POD_GATEWAY))
    problems.push(`pod default route via ${POD_GATEWAY} missing`);
  const hostRoutes = JSON.parse(await run(["ip", "-n", host, "-j", "-4", "route", "show"])) as RouteJson[];
  if (!hostRoutes.some((r) => r.dst === w.ip && r.dev === w.hostIf && r.scope === "link")) {
    problems.push(`host route ${w.ip}/32 dev ${w.hostIf} scope link missing`);
  }
  if (problems.length === 0) {
    const [pl] = JSON.parse(await run(["ip", "-n", pod, "-j", "link", "show", "dev", w.podIf])) as {
      address: string;
    }[];
    const neigh = JSON.parse(await run(["ip", "-n", host, "-j", "-4", "neigh", "show", "dev", w.hostIf])) as {
      dst: string;
      lladdr?: string;
      state?: string[];
    }[];
    if (!neigh.some((n) => n.dst === w.ip && n.lladdr === pl?.address && n.state?.includes("PERMANENT")))
      problems.push(`host neighbour ${w.ip} lladdr ${pl?.address} dev ${w.hostIf} nud permanent missing`);
  }
  return problems;
}
