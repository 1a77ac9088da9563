// The namespace plumbing of a workload endpoint, as Calico's CNI plugin does it:
//   host side  caliXXXXXXXXXXX: MAC ee:ee:ee:ee:ee:ee, no IP, proxy_arp=1, forwarding=1, route <podIP>/32 scope link,
//              and a permanent neighbour <podIP> lladdr <pod MAC> (Felix's static ARP entry)
//   pod side   eth0: <podIP>/32, 169.254.1.1 dev eth0 scope link, default via 169.254.1.1
// Every command names its namespace; nothing here touches the root namespace.
import { readdir, readlink, stat, writeFile } from "node:fs/promises";
import { assertIfName, assertNetnsName } from "../../effects/names.ts";
import { run, tryRun } from "../../effects/exec.ts";
import { linkExists } from "../../effects/links.ts";

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

/** A random locally administered unicast MAC for the pod's side (the kernel would pick one the same way). */
export function randomPodMac(bytes: Uint8Array = crypto.getRandomValues(new Uint8Array(6))): string {
  const b = [...bytes.slice(0, 6)];
  b[0] = ((b[0] ?? 0) & 0xfe) | 0x02;
  return b.map((x) => x.toString(16).padStart(2, "0")).join(":");
}

/**
 * The `ip -batch` lines that wire a pod, in three steps: the host's side created (the pod's side moved into
 * the pod's namespace with its MAC chosen here, so it need not be read back), then, once its sysctls are
 * set, the host's side up with the pod's /32 route and permanent neighbour, and the pod's side addressed and
 * routed through 169.254.1.1. Pure.
 */
export function workloadBatches(
  w: WorkloadSpec,
  podMac: string,
): { create: string; hostUp: string; pod: string } {
  const hif = assertIfName(w.hostIf);
  const pif = assertIfName(w.podIf);
  const ip = assertIpv4(w.ip);
  const pod = assertNetnsName(w.podNetns);
  const mtu = String(w.mtu);
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(podMac)) throw new Error(`invalid MAC "${podMac}"`);
  const lines = (...l: string[][]) => l.map((x) => x.join(" ") + "\n").join("");
  return {
    create: lines(
      ["link", "add", hif, "mtu", mtu, "address", HOST_VETH_MAC, "type", "veth", "peer", "name", pif, "address", podMac, "netns", pod],
    ),
    hostUp: lines(
      ["link", "set", "dev", hif, "up"],
      ["route", "replace", `${ip}/32`, "dev", hif, "scope", "link"],
      ["neigh", "replace", ip, "lladdr", podMac, "dev", hif, "nud", "permanent"],
    ),
    pod: lines(
      ["link", "set", "dev", "lo", "up"],
      ["addr", "add", `${ip}/32`, "dev", pif],
      ["link", "set", "dev", pif, "mtu", mtu, "up"],
      ["route", "replace", POD_GATEWAY, "dev", pif, "scope", "link"],
      ["route", "replace", "default", "via", POD_GATEWAY, "dev", pif],
    ),
  }; // prettier-ignore
}

/** The host side's sysctls Calico sets on a workload's interface: proxy ARP at once, and forwarding. */
export const WORKLOAD_SYSCTLS = (hif: string): [string, string][] => [
  [`net/ipv4/conf/${assertIfName(hif)}/proxy_arp`, "1"],
  [`net/ipv4/neigh/${hif}/proxy_delay`, "0"],
  [`net/ipv4/conf/${hif}/forwarding`, "1"],
];

/**
 * Sets a sysctl of the host's namespace. The plugin runs in that namespace (cmdAdd refuses to run
 * elsewhere), and /proc/sys/net shows the namespace of the process that opens it: a write, not a process.
 */
async function hostSysctl(key: string, value: string): Promise<void> {
  await writeFile(`/proc/sys/${key}`, value);
}

/**
 * Creates the veth pair and routes, in three `ip -batch` runs and three sysctl writes (each process costs
 * milliseconds, and a pod used to need fifteen). Runs in the host's namespace. Returns the pod side's MAC.
 */
export async function setupWorkload(w: WorkloadSpec): Promise<{ podMac: string }> {
  const host = assertNetnsName(w.hostNetns);
  const pod = assertNetnsName(w.podNetns);
  const hif = assertIfName(w.hostIf);
  const podMac = randomPodMac();
  const b = workloadBatches(w, podMac);
  await deleteLinkIfThere(host, hif); // a leftover from an earlier attempt
  await run(["ip", "-n", host, "-batch", "-"], { input: b.create });
  for (const [k, v] of WORKLOAD_SYSCTLS(hif)) await hostSysctl(k, v);
  await run(["ip", "-n", host, "-batch", "-"], { input: b.hostUp });
  await run(["ip", "-n", pod, "-batch", "-"], { input: b.pod });
  return { podMac };
}

/** Deletes a link; whether it was there (one process: `ip link del`, whose "Cannot find device" is "gone"). */
async function deleteLinkIfThere(netns: string, ifname: string): Promise<boolean> {
  const r = await tryRun(["ip", "-n", assertNetnsName(netns), "link", "del", "dev", assertIfName(ifname)]);
  if (r.exitCode === 0) return true;
  if (/Cannot find device|does not exist/i.test(r.stderr)) return false;
  throw new Error(`ip -n ${netns} link del dev ${ifname}: ${r.stderr.trim()}`);
}

/**
 * Removes the pair: deleting the host's end removes both and the host route. Only when the host's end is
 * already gone is the pod's end looked for (a pod namespace that still exists). Nothing there: nothing to do.
 */
export async function teardownWorkload(w: {
  hostNetns: string;
  hostIf: string;
  podNetns?: string;
  podIf?: string;
}): Promise<void> {
  if (await deleteLinkIfThere(w.hostNetns, w.hostIf)) return;
  if (w.podNetns && w.podIf) {
    const podNs = assertNetnsName(w.podNetns);
    if (
      await stat(`/run/netns/${podNs}`).then(
        () => true,
        () => false,
      )
    )
      await deleteLinkIfThere(podNs, w.podIf);
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
