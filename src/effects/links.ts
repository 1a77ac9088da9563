// Links inside namespaces. Every command names its namespace (`ip -n`): nothing here touches the root one.
// listLinks also reads a VM host's namespaces (inNetns).
import { assertIfName, assertNetnsName } from "./names.ts";
import { inNetns, run, tryRun } from "./exec.ts";

export interface LinkInfo {
  ifname: string;
  operstate: string;
  mtu: number;
  address?: string;
  link_type?: string;
  flags?: string[];
  addr_info?: { family: string; local: string; prefixlen: number; scope: string }[];
}

export async function listLinks(netns: string): Promise<LinkInfo[]> {
  const out = await run(inNetns(assertNetnsName(netns), ["ip", "-j", "addr", "show"]));
  return JSON.parse(out) as LinkInfo[];
}

export async function linkExists(netns: string, ifname: string): Promise<boolean> {
  const r = await tryRun(["ip", "-n", assertNetnsName(netns), "link", "show", "dev", assertIfName(ifname)]);
  return r.exitCode === 0;
}

/** A bridge, up, in the namespace (the lab's switch). */
export async function createBridge(netns: string, name: string, mtu: number): Promise<void> {
  const n = assertNetnsName(netns);
  const b = assertIfName(name);
  if (!(await linkExists(n, b))) await run(["ip", "-n", n, "link", "add", b, "type", "bridge"]);
  await run(["ip", "-n", n, "link", "set", "dev", b, "mtu", String(mtu), "up"]);
}

/**
 * A veth pair created inside namespace `a` with its peer moved straight into namespace `b`;
 * the peer is enslaved to `bridge` when given. Both ends come up.
 */
export async function createVethPair(opts: {
  netns: string;
  ifname: string;
  peerNetns: string;
  peerIfname: string;
  mtu: number;
  peerBridge?: string;
}): Promise<void> {
  const a = assertNetnsName(opts.netns);
  const b = assertNetnsName(opts.peerNetns);
  const ia = assertIfName(opts.ifname);
  const ib = assertIfName(opts.peerIfname);
  if (!(await linkExists(a, ia))) {
    await run([
      "ip",
      "-n",
      a,
      "link",
      "add",
      ia,
      "mtu",
      String(opts.mtu),
      "type",
      "veth",
      "peer",
      "name",
      ib,
      "netns",
      b,
    ]);
  }
  if (opts.peerBridge)
    await run(["ip", "-n", b, "link", "set", "dev", ib, "master", assertIfName(opts.peerBridge)]);
  await run(["ip", "-n", b, "link", "set", "dev", ib, "mtu", String(opts.mtu), "up"]);
  await run(["ip", "-n", a, "link", "set", "dev", ia, "mtu", String(opts.mtu), "up"]);
}

export async function deleteLink(netns: string, ifname: string): Promise<void> {
  const n = assertNetnsName(netns);
  const i = assertIfName(ifname);
  if (await linkExists(n, i)) await tryRun(["ip", "-n", n, "link", "del", "dev", i]);
}

/** Sets exactly this address (CIDR form) on the interface, replacing none others. */
export async function addAddress(netns: string, ifname: string, cidr: string): Promise<void> {
  await run(["ip", "-n", assertNetnsName(netns), "addr", "replace", cidr, "dev", assertIfName(ifname)]);
}

export async function addRoute(netns: string, args: readonly string[]): Promise<void> {
  await run(["ip", "-n", assertNetnsName(netns), "route", "replace", ...args]);
}

export async function setMtu(netns: string, ifname: string, mtu: number): Promise<void> {
  await run([
    "ip",
    "-n",
    assertNetnsName(netns),
    "link",
    "set",
    "dev",
    assertIfName(ifname),
    "mtu",
    String(mtu),
  ]);
}

/** Removes the address if present; absent is not an error. */
export async function deleteAddress(netns: string, ifname: string, cidr: string): Promise<void> {
  await tryRun(["ip", "-n", assertNetnsName(netns), "addr", "del", cidr, "dev", assertIfName(ifname)]);
}

/** A route as `ip -j route show` prints it. */
export interface RouteInfo {
  dst: string;
  gateway?: string;
  dev?: string;
  scope?: string;
  type?: string;
  protocol?: string;
}

/** The IPv4 routes of the main table in the namespace (a VM host's too), optionally only those on `dev`. */
export async function listRoutes(netns: string, dev?: string): Promise<RouteInfo[]> {
  const tail = dev ? ["dev", assertIfName(dev)] : [];
  const out = await run(inNetns(assertNetnsName(netns), ["ip", "-j", "-4", "route", "show", ...tail]));
  // `ip -j route show dev X` leaves out the device it was asked for.
  return (JSON.parse(out.trim() || "[]") as RouteInfo[]).map((r) => (dev ? { dev, ...r } : r));
}

/** Sets the link up (it may have been set down by hand). */
export async function setLinkUp(netns: string, ifname: string): Promise<void> {
  await run(inNetns(assertNetnsName(netns), ["ip", "link", "set", "dev", assertIfName(ifname), "up"]));
}
