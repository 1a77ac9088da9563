// Links inside namespaces. Every command names its namespace (`ip -n`): nothing here touches the root one.
// Each runs on the host the namespace is on (host-exec.ts): this kernel for a namespace host and the lab's
// own namespaces, the VM for a VM host's; callers that know the host pass it, others get it looked up.
import { assertIfName, assertNetnsName } from "./names.ts";
import { run, tryRun } from "./exec.ts";
import { execIn, hostOfNetns, ipIn, type HostExec } from "./host-exec.ts";

export interface LinkInfo {
  ifname: string;
  operstate: string;
  mtu: number;
  address?: string;
  link_type?: string;
  flags?: string[];
  addr_info?: { family: string; local: string; prefixlen: number; scope: string }[];
}

export async function listLinks(netns: string, host = hostOfNetns(netns)): Promise<LinkInfo[]> {
  const out = await run(execIn(host, assertNetnsName(netns), ["ip", "-j", "addr", "show"]));
  return JSON.parse(out) as LinkInfo[];
}

export async function linkExists(netns: string, ifname: string, host = hostOfNetns(netns)): Promise<boolean> {
  const r = await tryRun(ipIn(host, netns, ["link", "show", "dev", assertIfName(ifname)]));
  return r.exitCode === 0;
}

/** A bridge, up, in the namespace (the lab's switch). */
export async function createBridge(
  netns: string,
  name: string,
  mtu: number,
  host = hostOfNetns(netns),
): Promise<void> {
  const b = assertIfName(name);
  if (!(await linkExists(netns, b, host))) await run(ipIn(host, netns, ["link", "add", b, "type", "bridge"]));
  await run(ipIn(host, netns, ["link", "set", "dev", b, "mtu", String(mtu), "up"]));
}

/**
 * A veth pair created inside namespace `a` with its peer moved straight into namespace `b` (both on one
 * host: a veth cannot cross kernels); the peer is enslaved to `bridge` when given. Both ends come up.
 */
export async function createVethPair(opts: {
  netns: string;
  ifname: string;
  peerNetns: string;
  peerIfname: string;
  mtu: number;
  peerBridge?: string;
  host?: HostExec;
}): Promise<void> {
  const host = opts.host ?? hostOfNetns(opts.netns);
  const a = assertNetnsName(opts.netns);
  const b = assertNetnsName(opts.peerNetns);
  const ia = assertIfName(opts.ifname);
  const ib = assertIfName(opts.peerIfname);
  const mtu = String(opts.mtu);
  if (!(await linkExists(a, ia, host)))
    await run(ipIn(host, a, ["link", "add", ia, "mtu", mtu, "type", "veth", "peer", "name", ib, "netns", b]));
  if (opts.peerBridge)
    await run(ipIn(host, b, ["link", "set", "dev", ib, "master", assertIfName(opts.peerBridge)]));
  await run(ipIn(host, b, ["link", "set", "dev", ib, "mtu", mtu, "up"]));
  await run(ipIn(host, a, ["link", "set", "dev", ia, "mtu", mtu, "up"]));
}

export async function deleteLink(netns: string, ifname: string, host = hostOfNetns(netns)): Promise<void> {
  const i = assertIfName(ifname);
  if (await linkExists(netns, i, host)) await tryRun(ipIn(host, netns, ["link", "del", "dev", i]));
}

/** Sets exactly this address (CIDR form) on the interface, replacing none others. */
export async function addAddress(netns: string, ifname: string, cidr: string, host = hostOfNetns(netns)) {
  await run(ipIn(host, netns, ["addr", "replace", cidr, "dev", assertIfName(ifname)]));
}

export async function addRoute(netns: string, args: readonly string[], host = hostOfNetns(netns)) {
  await run(ipIn(host, netns, ["route", "replace", ...args]));
}

/** Removes the route if present; absent is not an error. */
export async function deleteRoute(netns: string, args: readonly string[], host = hostOfNetns(netns)) {
  await tryRun(ipIn(host, netns, ["route", "del", ...args]));
}

export async function setMtu(
  netns: string,
  ifname: string,
  mtu: number,
  host = hostOfNetns(netns),
): Promise<void> {
  await run(ipIn(host, netns, ["link", "set", "dev", assertIfName(ifname), "mtu", String(mtu)]));
}

/** Removes the address if present; absent is not an error. */
export async function deleteAddress(netns: string, ifname: string, cidr: string, host = hostOfNetns(netns)) {
  await tryRun(ipIn(host, netns, ["addr", "del", cidr, "dev", assertIfName(ifname)]));
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

/** The IPv4 routes of the main table in the namespace, optionally only those on `dev`. */
export async function listRoutes(
  netns: string,
  dev?: string,
  host = hostOfNetns(netns),
): Promise<RouteInfo[]> {
  const tail = dev ? ["dev", assertIfName(dev)] : [];
  const out = await run(execIn(host, assertNetnsName(netns), ["ip", "-j", "-4", "route", "show", ...tail]));
  // `ip -j route show dev X` leaves out the device it was asked for.
  return (JSON.parse(out.trim() || "[]") as RouteInfo[]).map((r) => (dev ? { dev, ...r } : r));
}

/** Sets the link up (it may have been set down by hand). */
export async function setLinkUp(netns: string, ifname: string, host = hostOfNetns(netns)): Promise<void> {
  await run(execIn(host, assertNetnsName(netns), ["ip", "link", "set", "dev", assertIfName(ifname), "up"]));
}
