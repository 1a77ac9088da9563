// Stage "hosts": calico-lab:hosts → named, labelled hosts with their underlay addresses (given, or counted
// from calico-lab:hostOffset), each name and address checked against the others and the underlay.
import { hostBackends } from "../backends/index.ts";
import { IPv4, Validator, type IPv4CidrRange } from "ip-num";
import { problem, shown, type Problem } from "../problems.ts";
import { parseLabels } from "./host-labels.ts";
import { unknownKeys } from "./keys.ts";
import { checkName, type NameRule } from "./names.ts";
import {
  DEFAULTS,
  HOST_NAME,
  RESERVED_NAMES,
  key,
  type HostBackend,
  type HostConfig,
  type Raw,
} from "./model.ts";
import { routerAddress } from "./network.ts";
import { single } from "./values.ts";

/** The keys of a host object; anything else is a typo the lab would silently ignore. */
const HOST_KEYS = ["name", "address", "labels"] as const;

export interface HostsContext {
  underlay: IPv4CidrRange | undefined;
  routed: IPv4CidrRange | undefined;
  /** calico-lab:hostOffset as given (checked on its own); addresses are counted only from an integer. */
  hostOffset: number;
  backend: HostBackend;
}

export interface HostsRead {
  hosts: HostConfig[];
  /** Names written in the hosts list, valid or not: a pod on a refused host is that host's problem only. */
  written: Set<unknown>;
}

export function parseHosts(raw: Raw, ctx: HostsContext, problems: Problem[]): HostsRead {
  const hosts: HostConfig[] = [];
  const written = new Set<unknown>();
  const rawHosts = raw.hosts ?? DEFAULTS.hosts;
  if (!Array.isArray(rawHosts) || rawHosts.length === 0) {
    problems.push(
      problem(
        key("hosts"),
        raw.hosts,
        "hosts must be a non-empty list",
        'list host names or objects, e.g. ["master", "worker-1", "worker-2"]',
      ),
    );
    return { hosts, written };
  }
  const seenNames = new Map<string, number>();
  const seenAddrs = new Map<string, number>();
  const tooMany = { reported: false };
  rawHosts.forEach((h: unknown, i: number) => {
    const field = `${key("hosts")}[${i}]`;
    const obj: Raw = typeof h === "string" ? { name: h } : h && typeof h === "object" ? (h as Raw) : {};
    unknownKeys(field, obj, HOST_KEYS, problems);
    written.add(obj.name);
    const name = checkName(field, obj.name, HOST_NAMES, seenNames, problems);
    if (name === undefined) return;
    seenNames.set(name, i);
    const labels = parseLabels(field, obj.labels, problems);
    const address = hostAddress(field, obj.address, i, rawHosts.length, ctx, tooMany, problems);
    if (address === undefined) return;
    if (ctx.underlay) checkAddress(field, address, ctx.underlay, ctx.routed, seenAddrs, problems);
    seenAddrs.set(address, i);
    hosts.push({ name, address, labels });
  });
  checkHostCount(rawHosts, hosts, ctx.backend, problems);
  return { hosts, written };
}

const HOST_NAMES: NameRule = {
  kind: "host",
  pattern: HOST_NAME,
  becomes: "namespace and interface names",
  maxLength: 15,
  taken: (name) =>
    (RESERVED_NAMES as readonly string[]).includes(name)
      ? { message: "this name is reserved for the lab's switch namespace", fix: "choose another host name" }
      : undefined,
};

/** The address written, else the underlay's host offset + index; undefined when there is none to use. */
function hostAddress(
  field: string,
  written: unknown,
  index: number,
  count: number,
  ctx: HostsContext,
  tooMany: { reported: boolean },
  problems: Problem[],
): string | undefined {
  if (written !== undefined) {
    if (typeof written === "string" && Validator.isValidIPv4String(written)[0]) return written;
    problems.push(
      problem(
        `${field}.address`,
        written,
        "not an IPv4 address",
        "write a plain address without prefix length, e.g. 192.168.19.165",
      ),
    );
    return undefined;
  }
  const { underlay, hostOffset } = ctx;
  if (!underlay || !Number.isInteger(hostOffset)) return undefined;
  const n = underlay.getFirst().getValue() + BigInt(hostOffset + index);
  if (n < underlay.getLast().getValue()) return IPv4.fromNumber(n).toString();
  if (!tooMany.reported) {
    tooMany.reported = true;
    problems.push({
      field: key("hosts"),
      value: `${count} hosts`,
      message: `too many hosts for the underlay ${underlay.toCidrString()} starting at offset ${hostOffset}`,
      fix: `use a larger ${key("underlayCidr")}, a smaller ${key("hostOffset")}, or fewer hosts`,
    });
  }
  return undefined;
}

/** The address must be a host address of a subnet of the underlay, not the router's, and not another host's. */
function checkAddress(
  field: string,
  address: string,
  underlay: IPv4CidrRange,
  routed: IPv4CidrRange | undefined,
  seen: ReadonlyMap<string, number>,
  problems: Problem[],
): void {
  const ip = IPv4.fromDecimalDottedString(address);
  const subnet = [underlay, ...(routed ? [routed] : [])].find((n) => n.contains(single(ip)));
  const isNetOrBcast =
    subnet &&
    (ip.getValue() === subnet.getFirst().getValue() || ip.getValue() === subnet.getLast().getValue());
  const where = routed ? `${underlay.toCidrString()} or ${routed.toCidrString()}` : underlay.toCidrString();
  if (!subnet || isNetOrBcast) {
    problems.push(
      problem(
        `${field}.address`,
        address,
        subnet ? "the network or broadcast address cannot be a host" : `outside the underlay ${where}`,
        `pick a host address inside ${where}`,
      ),
    );
  } else if (routed && ip.isEquals(routerAddress(subnet))) {
    problems.push(
      problem(
        `${field}.address`,
        address,
        `the router namespace has this address (the first of ${subnet.toCidrString()})`,
        "pick another host address; the router takes each subnet's first address",
      ),
    );
  }
  const other = seen.get(address);
  if (other !== undefined) {
    problems.push(
      problem(
        `${field}.address`,
        address,
        `duplicate address (also ${key("hosts")}[${other}])`,
        "give every host its own address",
      ),
    );
  }
}

/** A lab needs two hosts; a backend may run at most so many (its limits.maxHosts). */
function checkHostCount(
  rawHosts: readonly unknown[],
  hosts: readonly HostConfig[],
  backend: HostBackend,
  problems: Problem[],
): void {
  const max = hostBackends[backend].limits.maxHosts;
  if (max !== undefined && hosts.length > max) {
    problems.push({
      field: key("hosts"),
      value: `${hosts.length} hosts`,
      message: `backend ${backend} runs at most ${max} hosts: ${hostBackends[backend].limits.whyMaxHosts}`,
      fix: `use fewer hosts, or backend netns (pulumi config set ${key("backend")} netns)`,
    });
  }
  if (rawHosts.length === 1) {
    const only = hosts[0]?.name ?? "master";
    const second = only === "worker-1" ? "worker-2" : "worker-1";
    problems.push(
      problem(
        key("hosts"),
        rawHosts,
        "a lab needs at least two hosts: what it builds and verifies is routing between hosts (BGP sessions, tunnels, cross-host pod traffic), which one host does not have",
        `add a second host, e.g. ${shown(second)} (pulumi config set --path '${key("hosts")}[1]' ${second})`,
      ),
    );
  }
}
