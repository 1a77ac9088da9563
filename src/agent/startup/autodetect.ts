// IP autodetection with Calico's semantics (IP_AUTODETECTION_METHOD). The selection is pure, over an
// interface list in kernel order; readInterfaces/routeSource read them from a namespace.
import { IPv4CidrRange, Validator } from "ip-num";

const isIpv4 = (s: string) => Validator.isValidIPv4String(s)[0];
import { assertNetnsName } from "../../effects/names.ts";
import { run } from "../../effects/exec.ts";

export type AutodetectionMethod =
  | { kind: "first-found" }
  | { kind: "interface"; patterns: string[] }
  | { kind: "skip-interface"; patterns: string[] }
  | { kind: "can-reach"; destination: string }
  | { kind: "cidr"; cidrs: string[] }
  /** Needs a Kubernetes API (the Node's InternalIP): the lab has none, so selection fails with a clear error. */
  | { kind: "kubernetes-internal-ip" };

/** Calico's DEFAULT_INTERFACES_TO_EXCLUDE for first-found (and cidr=). */
export const DEFAULT_EXCLUDES = [
  "^docker.*",
  "^cbr.*",
  "^dummy.*",
  "^virbr.*",
  "^lxcbr.*",
  "^veth.*",
  "^lo",
  "^cali.*",
  "^tunl.*",
  "^flannel.*",
  "^kube-ipvs.*",
  "^cni.*",
  "^vxlan.calico.*",
  "^vxlan-v6.calico.*",
  "^wireguard.cali.*",
  "^wg-v6.cali.*",
  "^egress.calico.*",
  "^nodelocaldns.*",
];

export interface InterfaceAddrs {
  ifname: string;
  /** IPv4 addresses in the kernel's order. */
  addrs: { address: string; prefixLength: number }[];
}

export interface Detected {
  ifname: string;
  address: string;
  prefixLength: number;
  /** "a.b.c.d/len", as Node.spec.bgp.ipv4Address holds it. */
  cidr: string;
}

/** Parses "first-found", "interface=eth.*,ens.*", "skip-interface=...", "can-reach=1.2.3.4", "cidr=10.0.0.0/8,...". */
export function parseAutodetectionMethod(text: string | undefined): AutodetectionMethod {
  const t = (text ?? "").trim();
  if (t === "" || t === "first-found") return { kind: "first-found" };
  const eq = t.indexOf("=");
  const key = eq < 0 ? t : t.slice(0, eq);
  const list = (eq < 0 ? "" : t.slice(eq + 1))
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const regexes = () => {
    if (list.length === 0) throw new Error(`${key}= needs at least one regular expression`);
    for (const r of list) new RegExp(r); // throws on a bad one
    return list;
  };
  switch (key) {
    case "interface":
      return { kind: "interface", patterns: regexes() };
    case "skip-interface":
      return { kind: "skip-interface", patterns: regexes() };
    case "can-reach": {
      const dest = list[0];
      if (list.length !== 1 || dest === undefined || !isIpv4(dest)) {
        throw new Error(`can-reach= needs one IPv4 address (got "${list.join(",")}")`);
      }
      return { kind: "can-reach", destination: dest };
    }
    case "cidr":
      if (list.length === 0) throw new Error("cidr= needs at least one CIDR");
      for (const c of list) IPv4CidrRange.fromCidr(c);
      return { kind: "cidr", cidrs: list };
    case "kubernetes-internal-ip":
      return { kind: "kubernetes-internal-ip" };
    default:
      throw new Error(
        `unknown IP autodetection method "${t}" (first-found, interface=, skip-interface=, can-reach=, cidr=)`,
      );
  }
}

/** Go's net.IP.IsGlobalUnicast for IPv4: not 0.0.0.0, loopback, link-local, multicast or broadcast. */
export function isGlobalUnicast(ip: string): boolean {
  const o = ip.split(".").map(Number);
  const [a, b] = [o[0] ?? 0, o[1] ?? 0];
  if (ip === "255.255.255.255" || ip === "0.0.0.0") return false;
  if (a === 127 || a >= 224) return false;
  if (a === 169 && b === 254) return false;
  return true;
}

function inCidr(ip: string, cidr: string): boolean {
  return IPv4CidrRange.fromCidr(`${ip}/32`).inside(IPv4CidrRange.fromCidr(cidr));
}

function detected(ifname: string, a: { address: string; prefixLength: number }): Detected {
  return { ifname, address: a.address, prefixLength: a.prefixLength, cidr: `${a.address}/${a.prefixLength}` };
}

function firstAddress(
  ifaces: InterfaceAddrs[],
  include: string[] | null,
  exclude: string[],
  cidrs: string[] | null,
): Detected | null {
  const inc = include?.map((r) => new RegExp(r));
  const exc = exclude.map((r) => new RegExp(r));
  for (const i of ifaces) {
    if (inc && !inc.some((r) => r.test(i.ifname))) continue;
    if (exc.some((r) => r.test(i.ifname))) continue;
    for (const a of i.addrs) {
      if (!isGlobalUnicast(a.address)) continue;
      if (cidrs && !cidrs.some((c) => inCidr(a.address, c))) continue;
      return detected(i.ifname, a);
    }
  }
  return null;
}

/**
 * Picks the node's address. `routeSource` is the source address the kernel picks to reach the
 * can-reach destination (from `ip route get`); only that method uses it.
 */
export function selectAddress(
  method: AutodetectionMethod,
  ifaces: InterfaceAddrs[],
  routeSource?: string | null,
): Detected | null {
  switch (method.kind) {
    case "first-found":
      return firstAddress(ifaces, null, DEFAULT_EXCLUDES, null);
    case "interface":
      return firstAddress(ifaces, method.patterns, [], null);
    case "skip-interface":
      return firstAddress(ifaces, null, method.patterns, null);
    case "kubernetes-internal-ip":
      throw new Error(
        "kubernetes-internal-ip needs a Kubernetes API; the lab has none (use can-reach= or interface=)",
      );
    case "cidr":
      return firstAddress(ifaces, null, DEFAULT_EXCLUDES, method.cidrs);
    case "can-reach": {
      if (!routeSource) return null;
      for (const i of ifaces) {
        const a = i.addrs.find((x) => x.address === routeSource);
        if (a) return detected(i.ifname, a);
      }
      return null;
    }
  }
}

// ---- effects: read the namespace ----

interface IpAddrJson {
  ifindex: number;
  ifname: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

/** Parses `ip -j addr show` output into the kernel-ordered interface list. */
export function parseIpAddrJson(json: string): InterfaceAddrs[] {
  return (JSON.parse(json) as IpAddrJson[])
    .sort((a, b) => a.ifindex - b.ifindex)
    .map((l) => ({
      ifname: l.ifname,
      addrs: (l.addr_info ?? [])
        .filter((a) => a.family === "inet")
        .map((a) => ({ address: a.local, prefixLength: a.prefixlen })),
    }));
}

export async function readInterfaces(netns: string): Promise<InterfaceAddrs[]> {
  return parseIpAddrJson(await run(["ip", "-n", assertNetnsName(netns), "-j", "addr", "show"]));
}

/** The source address the kernel would use to reach `dest` from the namespace (null when unreachable). */
export async function routeSource(netns: string, dest: string): Promise<string | null> {
  if (!isIpv4(dest)) throw new Error(`invalid IPv4 address "${dest}"`);
  try {
    const routes = JSON.parse(
      await run(["ip", "-n", assertNetnsName(netns), "-j", "route", "get", dest]),
    ) as { prefsrc?: string }[];
    return routes[0]?.prefsrc ?? null;
  } catch {
    return null;
  }
}

export async function autodetect(netns: string, method: AutodetectionMethod): Promise<Detected> {
  const ifaces = await readInterfaces(netns);
  const src = method.kind === "can-reach" ? await routeSource(netns, method.destination) : null;
  const found = selectAddress(method, ifaces, src);
  if (!found) {
    throw new Error(
      `IP autodetection (${method.kind}) found no address in ${netns}; interfaces: ${ifaces.map((i) => `${i.ifname}[${i.addrs.map((a) => a.address).join(",")}]`).join(" ")}`,
    );
  }
  return found;
}
