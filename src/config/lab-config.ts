// The lab's stack configuration: typed, defaulted, and validated as a whole before anything is created.
import { IPv4, IPv4CidrRange, IPv4Prefix, Validator } from "ip-num";
import { UNDERLAY_MTU_MAX, UNDERLAY_MTU_MIN } from "../manifest/stack-config.ts";
import { LAB_DEFAULTS } from "../manifest/variant.ts";
import { MODE_SPECS, MODES, crossesRouter, hasTunnel, isMode, type Mode } from "../modes.ts";
import { checkAutodetect } from "./autodetect.ts";
import { labelKeyProblem, labelValueProblem } from "./labels.ts";
import {
  BLOCK_SIZE_MAX,
  BLOCK_SIZE_MIN,
  addressesPerHost,
  blocksInPool,
  blocksNeeded,
  fittingBlockSizes,
  freeNetwork,
  poolPrefixFor,
} from "./pool.ts";
import { shown, type ConfigProblem } from "./problems.ts";

export const CONFIG_NAMESPACE = "calico-lab";

export { MODES, type Mode } from "../modes.ts";
/**
 * What a lab host is: a network namespace of this kernel (seconds, the default), or a VM with Debian's
 * kernel under QEMU (a kernel per host: IPIP where this one has none; minutes under TCG).
 */
export const HOST_BACKENDS = ["netns", "vm"] as const;
export type HostBackend = (typeof HOST_BACKENDS)[number];

/** Host names become namespace suffixes and switch port names (Linux interface names: 15 bytes). */
export const HOST_NAME = /^[a-z][a-z0-9-]{0,14}$/;
/** Stack names become namespace prefixes. */
export const STACK_NAME = /^[a-z][a-z0-9-]{0,23}$/;
/** Names reserved for the lab's own namespaces. */
export const RESERVED_HOST_NAMES = ["underlay", "outside", "router"] as const;

export interface HostConfig {
  name: string;
  /** Underlay address (no prefix length). */
  address: string;
  labels: Record<string, string>;
}

export interface PodConfig {
  name: string;
  /** The host it runs on (given, or the first host matching its nodeSelector). */
  host: string;
  /** Runs the echo server (seed 003) on TCP port 8080. */
  server: boolean;
}

export interface OutsideConfig {
  /** An "outside" host on the underlay with no route to the pool (natOutgoing target; seed 004's router). */
  address: string;
  /** When set, it runs BIRD and peers with the route reflectors (eBGP) to reach pod IPs through them. */
  asNumber?: number;
}

/** A routed underlay's second subnet: its hosts sit behind the router namespace (the seeds' "different network"). */
export interface RoutedSubnet {
  cidr: string;
  prefixLength: number;
}

export interface LabConfig {
  stack: string;
  mode: Mode;
  backend: HostBackend;
  underlayCidr: string;
  underlayPrefixLength: number;
  /** Set: the underlay is two subnets joined by a router namespace; hosts are in whichever holds their address. */
  routed?: RoutedSubnet;
  mtu: number;
  podCidr: string;
  serviceCidr: string;
  hosts: HostConfig[];
  pods: PodConfig[];
  /** Hosts acting as BGP route reflectors (label route-reflector, cluster id 244.0.0.1); mesh off when any. */
  routeReflectors: string[];
  outside: OutsideConfig;
}

/** The most VM hosts a lab may have (backend vm). */
export const MAX_VM_HOSTS = 8;
/** Calico's conventional route-reflector cluster id, as in seed 004. */
export const RR_CLUSTER_ID = "244.0.0.1";
export const POD_NAME = /^[a-z][a-z0-9-]{0,22}$/;
/** Namespace suffixes the lab uses itself. */
export const RESERVED_NAMES = ["underlay", "outside", "router"] as const;

export const DEFAULTS = {
  mode: "ipip" as Mode,
  backend: "netns" as HostBackend,
  underlayCidr: "192.168.19.0/24",
  /** The seeds' hosts are .165, .166, .167: host addresses start at this offset in the underlay. */
  hostOffset: 165,
  mtu: 1500,
  podCidr: "10.244.0.0/16",
  serviceCidr: "10.96.0.0/12",
  hosts: [
    { name: "master" },
    { name: "worker-1", labels: { worker: "no-1" } },
    { name: "worker-2", labels: { worker: "no-2" } },
  ] as unknown[],
  /** The outside host's offset in the underlay (.200 on a /24). */
  outsideOffset: 200,
};

/** Keys of the lab's topology (read here) and of the Calico variant (read by src/manifest). */
const KNOWN_KEYS = [
  "mode",
  "backend",
  "underlayCidr",
  "routedCidr",
  "hostOffset",
  "mtu",
  "podCidr",
  "serviceCidr",
  "hosts",
  "blockSize",
  "asNumber",
  "natOutgoing",
  "autodetect",
  "pods",
  "routeReflectors",
  "outside",
] as const;

/** The keys of each nested object; anything else is a typo the lab would silently ignore. */
const HOST_KEYS = ["name", "address", "labels"] as const;
const POD_KEYS = ["name", "host", "nodeSelector", "server"] as const;
const OUTSIDE_KEYS = ["address", "asNumber"] as const;
/** Config namespaces Pulumi itself reads (pulumi:template, pulumi:tags, …): never the lab's typos. */
const PULUMI_NAMESPACES = ["pulumi"] as const;
/** Labels the lab sets itself: a host is a route reflector through calico-lab:routeReflectors only. */
const LAB_LABELS = ["route-reflector"] as const;
/** Labels every node's agent sets (as a kubelet would): the node's name and its OS. */
const NODE_LABELS = ["kubernetes.io/hostname", "kubernetes.io/os"] as const;
/** The cluster's AS number and block size when calico-lab:asNumber / blockSize are unset. */
const DEFAULT_CLUSTER_AS = LAB_DEFAULTS.asNumber;
const DEFAULT_BLOCK_SIZE = LAB_DEFAULTS.blockSize;

type Raw = Record<string, unknown>;

export type ConfigResult = { ok: true; config: LabConfig } | { ok: false; problems: ConfigProblem[] };

const key = (k: string) => `${CONFIG_NAMESPACE}:${k}`;

/** Parses a CIDR that must be a network address; records a problem and returns undefined otherwise. */
function parseNetwork(
  field: string,
  value: unknown,
  problems: ConfigProblem[],
  example: string,
): IPv4CidrRange | undefined {
  if (typeof value !== "string" || !Validator.isValidIPv4CidrNotation(value)[0]) {
    problems.push({
      field,
      value: shown(value),
      message: "not an IPv4 CIDR",
      fix: `write a network as a.b.c.d/len, e.g. ${example}`,
    });
    return undefined;
  }
  if (!Validator.isValidIPv4CidrRange(value)[0]) {
    const range = IPv4CidrRange.fromCidr(value);
    problems.push({
      field,
      value: shown(value),
      message: "host bits are set",
      fix: `use the network address ${range.getFirst().toString()}/${range.cidrPrefix.getValue()}`,
    });
    return undefined;
  }
  const range = IPv4CidrRange.fromCidr(value);
  const special = SPECIAL_RANGES.find(([cidr]) => IPv4CidrRange.fromCidr(cidr).isOverlapping(range));
  if (special) {
    problems.push({
      field,
      value: shown(value),
      message: `overlaps ${special[0]} (${special[1]}): no lab address may be there`,
      fix: `use a private unicast network, e.g. ${example}`,
    });
    return undefined;
  }
  return range;
}

/** Ranges a lab network must not touch: the kernel treats their addresses specially. */
const SPECIAL_RANGES = [
  ["0.0.0.0/8", '"this network"'],
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local"],
  ["224.0.0.0/3", "multicast and reserved, up to the broadcast address"],
] as const;

function single(ip: IPv4): IPv4CidrRange {
  return new IPv4CidrRange(ip, new IPv4Prefix(32n));
}

export function closest(word: string, candidates: readonly string[]): string | undefined {
  const dist = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i]![j] = Math.min(
          d[i - 1]![j]! + 1,
          d[i]![j - 1]! + 1,
          d[i - 1]![j - 1]! + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1),
        );
    return d[a.length]![b.length]!;
  };
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const dd = dist(word, c);
    if (dd < bestD) [best, bestD] = [c, dd];
  }
  return best;
}

/** Problems for the keys of a nested object that are not `known`, each with its nearest known key. */
function unknownKeys(field: string, obj: Raw, known: readonly string[], problems: ConfigProblem[]): void {
  for (const [k, v] of Object.entries(obj)) {
    if (known.includes(k)) continue;
    const guess = closest(k, known);
    problems.push({
      field: `${field}.${k}`,
      value: shown(v),
      message: "unknown key: the lab would ignore it",
      fix: guess ? `did you mean ${field}.${guess}?` : `remove it; known keys here: ${known.join(", ")}`,
    });
  }
}

/** A stack key outside the lab's namespace: `calicolab:mode` is read by nothing, so it is refused. */
function foreignKeyProblem(full: string, value: unknown): ConfigProblem | undefined {
  const colon = full.indexOf(":");
  const ns = colon < 0 ? "" : full.slice(0, colon);
  if (ns === CONFIG_NAMESPACE || (PULUMI_NAMESPACES as readonly string[]).includes(ns)) return undefined;
  const rest = full.slice(colon + 1);
  const guess = (KNOWN_KEYS as readonly string[]).includes(rest) ? rest : closest(rest, KNOWN_KEYS);
  return {
    field: full,
    value: shown(value),
    message: `namespace "${ns}" is not the lab's: only ${CONFIG_NAMESPACE}:* keys are read, so this one would be ignored`,
    fix: guess
      ? `did you mean ${key(guess)}? (pulumi config rm ${full}, then pulumi config set ${key(guess)} <value>)`
      : `remove it (pulumi config rm ${full}); the lab's keys are ${CONFIG_NAMESPACE}:<key>`,
  };
}

/** A whole number from a config value (Pulumi hands numbers over as text), or undefined. */
function wholeNumber(v: unknown): number | undefined {
  const n = typeof v === "string" && /^-?[0-9]+$/.test(v.trim()) ? Number(v) : v;
  return typeof n === "number" && Number.isInteger(n) ? n : undefined;
}

/**
 * Reads the lab config from raw stack config values keyed without namespace (`mode`, `hosts`, …).
 * `allKeys` are the full keys present in the stack (to report unknown `calico-lab:` keys and keys in a
 * namespace that is not the lab's); `values` are the values of those keys, for the messages.
 */
export function parseLabConfig(
  stack: string,
  raw: Raw,
  allKeys: readonly string[] = [],
  values: Readonly<Record<string, unknown>> = {},
): ConfigResult {
  const problems: ConfigProblem[] = [];

  if (!STACK_NAME.test(stack)) {
    problems.push({
      field: "stack name",
      value: shown(stack),
      message: "stack names prefix the lab's network namespaces and must match " + STACK_NAME.source,
      fix: "use lower-case letters, digits and dashes, starting with a letter, at most 24 characters",
    });
  }

  for (const full of allKeys) {
    const foreign = foreignKeyProblem(full, values[full]);
    if (foreign) problems.push(foreign);
    if (!full.startsWith(`${CONFIG_NAMESPACE}:`)) continue;
    const k = full.slice(CONFIG_NAMESPACE.length + 1);
    if ((KNOWN_KEYS as readonly string[]).includes(k)) continue;
    const guess = closest(k, KNOWN_KEYS);
    problems.push({
      field: full,
      value: shown(raw[k]),
      message: "unknown configuration key",
      fix: guess
        ? `did you mean ${key(guess)}? (pulumi config rm ${full})`
        : `remove it (pulumi config rm ${full}); known keys: ${KNOWN_KEYS.join(", ")}`,
    });
  }

  const mode = (raw.mode ?? DEFAULTS.mode) as Mode;
  const modeOk = isMode(mode);
  if (!modeOk) {
    problems.push({
      field: key("mode"),
      value: shown(raw.mode),
      message: "unknown mode",
      fix: `set one of ${MODES.join(", ")} (pulumi config set ${key("mode")} bgp)`,
    });
  }

  const backend = (raw.backend ?? DEFAULTS.backend) as HostBackend;
  if (!HOST_BACKENDS.includes(backend)) {
    problems.push({
      field: key("backend"),
      value: shown(raw.backend),
      message: "unknown host backend",
      fix: `set one of ${HOST_BACKENDS.join(", ")}: netns (namespaces, the default) or vm (a QEMU VM per host)`,
    });
  }

  const mtu = raw.mtu === undefined ? DEFAULTS.mtu : Number(raw.mtu);
  if (!Number.isInteger(mtu) || mtu < UNDERLAY_MTU_MIN || mtu > UNDERLAY_MTU_MAX) {
    problems.push({
      field: key("mtu"),
      value: shown(raw.mtu),
      message: `the underlay MTU must be an integer from ${UNDERLAY_MTU_MIN} to ${UNDERLAY_MTU_MAX}`,
      fix: `leave it unset for 1500, or set e.g. ${UNDERLAY_MTU_MAX} for jumbo frames`,
    });
  }

  const underlay = parseNetwork(
    key("underlayCidr"),
    raw.underlayCidr ?? DEFAULTS.underlayCidr,
    problems,
    DEFAULTS.underlayCidr,
  );
  const pods = parseNetwork(key("podCidr"), raw.podCidr ?? DEFAULTS.podCidr, problems, DEFAULTS.podCidr);
  const services = parseNetwork(
    key("serviceCidr"),
    raw.serviceCidr ?? DEFAULTS.serviceCidr,
    problems,
    DEFAULTS.serviceCidr,
  );

  const routed =
    raw.routedCidr === undefined
      ? undefined
      : parseNetwork(key("routedCidr"), raw.routedCidr, problems, "192.168.20.0/24");
  if (routed) checkRouted(routed, { underlay, pods, services, mode, raw }, problems);
  checkNetworkOverlaps(raw, { underlay, pods, services, routed }, problems);

  const hostOffset = raw.hostOffset === undefined ? DEFAULTS.hostOffset : Number(raw.hostOffset);
  /** Names written in the hosts list, valid or not: a pod on a refused host is that host's problem only. */
  const writtenHostNames = new Set<unknown>();
  if (!Number.isInteger(hostOffset) || hostOffset < 1) {
    problems.push({
      field: key("hostOffset"),
      value: shown(raw.hostOffset),
      message: "the offset of the first host address must be a positive integer",
      fix: "leave it unset (165, as in the seeds) or set e.g. 10",
    });
  }

  const hosts: HostConfig[] = [];
  const rawHosts = raw.hosts ?? DEFAULTS.hosts;
  if (!Array.isArray(rawHosts) || rawHosts.length === 0) {
    problems.push({
      field: key("hosts"),
      value: shown(raw.hosts),
      message: "hosts must be a non-empty list",
      fix: 'list host names or objects, e.g. ["master", "worker-1", "worker-2"]',
    });
  } else {
    const seenNames = new Map<string, number>();
    const seenAddrs = new Map<string, number>();
    let tooMany = false;
    rawHosts.forEach((h: unknown, i: number) => {
      const field = `${key("hosts")}[${i}]`;
      const obj: Raw = typeof h === "string" ? { name: h } : h && typeof h === "object" ? (h as Raw) : {};
      unknownKeys(field, obj, HOST_KEYS, problems);
      const name = obj.name;
      writtenHostNames.add(name);
      if (typeof name !== "string" || !HOST_NAME.test(name)) {
        problems.push({
          field: `${field}.name`,
          value: shown(name),
          message: `host names become namespace and interface names and must match ${HOST_NAME.source}`,
          fix: "use lower-case letters, digits and dashes, starting with a letter, at most 15 characters",
        });
        return;
      }
      if ((RESERVED_HOST_NAMES as readonly string[]).includes(name)) {
        problems.push({
          field: `${field}.name`,
          value: shown(name),
          message: "this name is reserved for the lab's switch namespace",
          fix: "choose another host name",
        });
      }
      const dup = seenNames.get(name);
      if (dup !== undefined) {
        problems.push({
          field: `${field}.name`,
          value: shown(name),
          message: `duplicate host name (also ${key("hosts")}[${dup}])`,
          fix: "give every host its own name",
        });
      }
      seenNames.set(name, i);

      const labels: Record<string, string> = {};
      if (obj.labels !== undefined) {
        if (typeof obj.labels !== "object" || obj.labels === null || Array.isArray(obj.labels)) {
          problems.push({
            field: `${field}.labels`,
            value: shown(obj.labels),
            message: "labels must be a map of strings",
            fix: 'write e.g. {"worker": "no-1"}',
          });
        } else {
          for (const [lk, lv] of Object.entries(obj.labels as Raw)) {
            const labelProblem = checkLabel(`${field}.labels`, lk, lv, problems);
            if (!labelProblem) labels[lk] = String(lv);
          }
        }
      }

      let address: string | undefined;
      if (obj.address !== undefined) {
        if (typeof obj.address !== "string" || !Validator.isValidIPv4String(obj.address)[0]) {
          problems.push({
            field: `${field}.address`,
            value: shown(obj.address),
            message: "not an IPv4 address",
            fix: "write a plain address without prefix length, e.g. 192.168.19.165",
          });
          return;
        }
        address = obj.address;
      } else if (underlay && Number.isInteger(hostOffset)) {
        const n = underlay.getFirst().getValue() + BigInt(hostOffset + i);
        if (n >= underlay.getLast().getValue()) {
          if (tooMany) return;
          tooMany = true;
          problems.push({
            field: key("hosts"),
            value: `${rawHosts.length} hosts`,
            message: `too many hosts for the underlay ${underlay.toCidrString()} starting at offset ${hostOffset}`,
            fix: `use a larger ${key("underlayCidr")}, a smaller ${key("hostOffset")}, or fewer hosts`,
          });
          return;
        }
        address = IPv4.fromNumber(n).toString();
      }
      if (address && underlay) {
        const ip = IPv4.fromDecimalDottedString(address);
        const subnet = [underlay, ...(routed ? [routed] : [])].find((n) => n.contains(single(ip)));
        const isNetOrBcast =
          subnet &&
          (ip.getValue() === subnet.getFirst().getValue() || ip.getValue() === subnet.getLast().getValue());
        const where = routed
          ? `${underlay.toCidrString()} or ${routed.toCidrString()}`
          : underlay.toCidrString();
        if (!subnet || isNetOrBcast) {
          problems.push({
            field: `${field}.address`,
            value: shown(address),
            message: subnet
              ? "the network or broadcast address cannot be a host"
              : `outside the underlay ${where}`,
            fix: `pick a host address inside ${where}`,
          });
        } else if (routed && ip.isEquals(routerAddress(subnet))) {
          problems.push({
            field: `${field}.address`,
            value: shown(address),
            message: `the router namespace has this address (the first of ${subnet.toCidrString()})`,
            fix: "pick another host address; the router takes each subnet's first address",
          });
        }
        const other = seenAddrs.get(address);
        if (other !== undefined) {
          problems.push({
            field: `${field}.address`,
            value: shown(address),
            message: `duplicate address (also ${key("hosts")}[${other}])`,
            fix: "give every host its own address",
          });
        }
        seenAddrs.set(address, i);
      }
      if (address) hosts.push({ name, address, labels });
    });
  }

  if (backend === "vm" && hosts.length > MAX_VM_HOSTS) {
    problems.push({
      field: key("hosts"),
      value: `${hosts.length} hosts`,
      message: `backend vm runs at most ${MAX_VM_HOSTS} hosts: each is a QEMU VM with 1 GiB and, under TCG, a host thread of its own`,
      fix: `use fewer hosts, or backend netns (pulumi config set ${key("backend")} netns)`,
    });
  }
  if (Array.isArray(rawHosts) && rawHosts.length === 1) {
    const only = hosts[0]?.name ?? "master";
    const second = only === "worker-1" ? "worker-2" : "worker-1";
    problems.push({
      field: key("hosts"),
      value: shown(rawHosts),
      message:
        "a lab needs at least two hosts: what it builds and verifies is routing between hosts (BGP sessions, tunnels, cross-host pod traffic), which one host does not have",
      fix: `add a second host, e.g. ${shown(second)} (pulumi config set --path '${key("hosts")}[1]' ${second})`,
    });
  }
  const podConfigs = parsePods(raw, hosts, writtenHostNames, problems);
  const routeReflectors = parseRouteReflectors(
    raw,
    hosts,
    writtenHostNames,
    modeOk ? mode : undefined,
    problems,
  );
  const outside = parseOutside(raw, underlay, hosts, problems, routed, modeOk ? mode : undefined, [
    pods,
    services,
  ]);
  if (pods)
    checkPoolCapacity(
      raw,
      pods,
      hosts,
      podConfigs,
      modeOk ? mode : undefined,
      underlay,
      services,
      routed,
      problems,
    );
  if (raw.autodetect !== undefined)
    checkAutodetect(
      raw.autodetect,
      { hosts, pods, subnets: [underlay, routed].filter((n) => n !== undefined) },
      problems,
    );

  if (
    problems.length > 0 ||
    !underlay ||
    !pods ||
    !services ||
    !outside ||
    (raw.routedCidr !== undefined && !routed)
  )
    return { ok: false, problems };
  return {
    ok: true,
    config: {
      stack,
      mode,
      backend,
      underlayCidr: underlay.toCidrString(),
      underlayPrefixLength: Number(underlay.cidrPrefix.getValue()),
      ...(routed
        ? { routed: { cidr: routed.toCidrString(), prefixLength: Number(routed.cidrPrefix.getValue()) } }
        : {}),
      mtu,
      podCidr: pods.toCidrString(),
      serviceCidr: services.toCidrString(),
      hosts,
      pods: podConfigs,
      routeReflectors,
      outside,
    },
  };
}

function matchesLabels(labels: Record<string, string>, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/**
 * Seed-like pods when none are configured: a busybox pod on every worker (every host but the first),
 * a second one on the first worker (a same-node pair), and the echo server (seed 003) on the last worker.
 */
export function defaultPods(hosts: readonly HostConfig[]): Raw[] {
  const workers = hosts.length > 1 ? hosts.slice(1) : hosts;
  const pods: Raw[] = workers.map((h, i) => ({ name: `busybox-${i + 1}`, host: h.name }));
  if (workers[0]) pods.push({ name: `busybox-${workers.length + 1}`, host: workers[0].name });
  const last = workers[workers.length - 1];
  if (last) pods.push({ name: "echo", host: last.name, server: true });
  return pods;
}

function parsePods(
  raw: Raw,
  hosts: HostConfig[],
  writtenHostNames: ReadonlySet<unknown>,
  problems: ConfigProblem[],
): PodConfig[] {
  const list = raw.pods ?? defaultPods(hosts);
  if (!Array.isArray(list)) {
    problems.push({
      field: key("pods"),
      value: shown(list),
      message: "pods must be a list",
      fix: 'write e.g. [{"name": "busybox-1", "host": "worker-1"}]',
    });
    return [];
  }
  const out: PodConfig[] = [];
  const seen = new Map<string, number>();
  const hostNames = new Set(hosts.map((h) => h.name));
  list.forEach((p: unknown, i: number) => {
    const field = `${key("pods")}[${i}]`;
    const obj: Raw = p && typeof p === "object" ? (p as Raw) : {};
    unknownKeys(field, obj, POD_KEYS, problems);
    const name = obj.name;
    if (typeof name !== "string" || !POD_NAME.test(name)) {
      problems.push({
        field: `${field}.name`,
        value: shown(name),
        message: `pod names become namespace names and must match ${POD_NAME.source}`,
        fix: "use lower-case letters, digits and dashes, starting with a letter, at most 23 characters",
      });
      return;
    }
    if (hostNames.has(name) || (RESERVED_NAMES as readonly string[]).includes(name)) {
      problems.push({
        field: `${field}.name`,
        value: shown(name),
        message: "a pod cannot share its name with a host or the lab's own namespaces",
        fix: "rename the pod",
      });
    }
    const dup = seen.get(name);
    if (dup !== undefined) {
      problems.push({
        field: `${field}.name`,
        value: shown(name),
        message: `duplicate pod name (also ${key("pods")}[${dup}])`,
        fix: "give every pod its own name",
      });
    }
    seen.set(name, i);
    let host: string | undefined;
    if (obj.host !== undefined && obj.nodeSelector !== undefined) {
      problems.push({
        field: `${field}.nodeSelector`,
        value: shown(obj.nodeSelector),
        message: `the pod also names a host (${shown(obj.host)}): one placement would silently win`,
        fix: `keep one: remove ${field}.nodeSelector to run it on ${shown(obj.host)}, or remove ${field}.host`,
      });
      return;
    }
    if (obj.host !== undefined) {
      // A host refused for its own name or address is reported there; its pods are not a second cause.
      if (writtenHostNames.has(obj.host) && !hostNames.has(obj.host as string)) return;
      if (typeof obj.host !== "string" || !hostNames.has(obj.host)) {
        problems.push({
          field: `${field}.host`,
          value: shown(obj.host),
          message: "no such host",
          fix: `use one of ${[...hostNames].join(", ")}`,
        });
        return;
      }
      host = obj.host;
    } else if (obj.nodeSelector !== undefined) {
      const sel = obj.nodeSelector;
      if (!sel || typeof sel !== "object" || Array.isArray(sel)) {
        problems.push({
          field: `${field}.nodeSelector`,
          value: shown(sel),
          message: "nodeSelector must be a map of labels",
          fix: 'write e.g. {"worker": "no-1"}',
        });
        return;
      }
      const want = Object.fromEntries(Object.entries(sel as Raw).map(([k, v]) => [k, String(v)]));
      host = hosts.find((h) => matchesLabels(h.labels, want))?.name;
      if (!host) {
        problems.push({
          field: `${field}.nodeSelector`,
          value: shown(sel),
          message: "no host has these labels",
          fix: `label a host in ${key("hosts")} (labels: {...}) or pick a host with "host"`,
        });
        return;
      }
    } else {
      problems.push({
        field: field,
        value: shown(p),
        message: "a pod needs a host or a nodeSelector",
        fix: 'add "host": "<host name>" or "nodeSelector": {"<label>": "<value>"}',
      });
      return;
    }
    if (obj.server !== undefined && typeof obj.server !== "boolean") {
      problems.push({
        field: `${field}.server`,
        value: shown(obj.server),
        message: "server must be true or false",
        fix: "write true to run the echo server in this pod",
      });
      return;
    }
    out.push({ name, host, server: obj.server === true });
  });
  return out;
}

function parseRouteReflectors(
  raw: Raw,
  hosts: HostConfig[],
  writtenHostNames: ReadonlySet<unknown>,
  mode: Mode | undefined,
  problems: ConfigProblem[],
): string[] {
  const v = raw.routeReflectors;
  if (v === undefined) return [];
  if (mode !== undefined && !MODE_SPECS[mode].runsBgp) {
    problems.push({
      field: key("routeReflectors"),
      value: shown(v),
      message: `mode ${mode} runs no BGP (calico_backend ${MODE_SPECS[mode].preset.backend}): there is nothing for a route reflector to reflect`,
      fix: `remove it (pulumi config rm ${key("routeReflectors")}), or use a BGP mode such as ipip or bgp`,
    });
    return [];
  }
  const hostNames = new Set(hosts.map((h) => h.name));
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
    problems.push({
      field: key("routeReflectors"),
      value: shown(v),
      message: "routeReflectors must be a list of host names",
      fix: 'write e.g. ["master", "worker-1"]',
    });
    return [];
  }
  if (v.length === 0) {
    problems.push({
      field: key("routeReflectors"),
      value: shown(v),
      message:
        "an empty list turns the node-to-node mesh off and leaves no route reflector: no node would peer",
      fix: "name at least one host, or remove the key to keep the full mesh",
    });
  }
  const seen = new Map<string, number>();
  for (const [i, name] of (v as string[]).entries()) {
    const dup = seen.get(name);
    seen.set(name, i);
    if (dup !== undefined) {
      problems.push({
        field: `${key("routeReflectors")}[${i}]`,
        value: shown(name),
        message: `listed twice (also ${key("routeReflectors")}[${dup}])`,
        fix: "name each route reflector once",
      });
    } else if (writtenHostNames.has(name) && !hostNames.has(name)) {
      continue; // a refused host: its own problem says why
    } else if (!hostNames.has(name)) {
      problems.push({
        field: `${key("routeReflectors")}[${i}]`,
        value: shown(name),
        message: "no such host",
        fix: `use one of ${[...hostNames].join(", ")}`,
      });
    }
  }
  if (v.length > 0 && new Set(v).size >= hosts.length && hosts.length > 0) {
    problems.push({
      field: key("routeReflectors"),
      value: shown(v),
      message: "every host is a route reflector: there are no clients to reflect to",
      fix: "leave at least one host out of the list",
    });
  }
  return v as string[];
}

function parseOutside(
  raw: Raw,
  underlay: IPv4CidrRange | undefined,
  hosts: HostConfig[],
  problems: ConfigProblem[],
  routed: IPv4CidrRange | undefined,
  mode: Mode | undefined,
  /** The pod and service networks: a larger underlay suggested must not take them. */
  avoid: readonly (IPv4CidrRange | undefined)[],
): OutsideConfig | undefined {
  if (!underlay) return undefined;
  const v = (raw.outside ?? {}) as Raw;
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    problems.push({
      field: key("outside"),
      value: shown(raw.outside),
      message: "outside must be an object",
      fix: 'write e.g. {"address": "192.168.19.200", "asNumber": 65001}',
    });
    return undefined;
  }
  unknownKeys(key("outside"), v, OUTSIDE_KEYS, problems);
  const taken = new Set(hosts.map((h) => h.address));
  if (routed) taken.add(routerAddress(underlay).toString());
  let address: string;
  if (v.address === undefined) {
    // .200 when it is inside and free, else the highest free address: never a problem of the user's making.
    const last = underlay.getLast().getValue();
    const first = underlay.getFirst().getValue();
    const wanted = first + BigInt(DEFAULTS.outsideOffset);
    let n = wanted < last ? wanted : last - 1n;
    while (n > first && taken.has(IPv4.fromNumber(n).toString())) n--;
    // Nothing free below .200: the first free address above it.
    if (n <= first) for (n = wanted + 1n; n < last && taken.has(IPv4.fromNumber(n).toString()); n++);
    if (n <= first || n >= last) {
      const size = Number(last - first + 1n);
      // The smallest network holding the hosts, the outside host, network and broadcast addresses.
      const prefix = Math.min(
        32 - Math.ceil(Math.log2(taken.size + 1 + 2)),
        Number(underlay.cidrPrefix.getValue()) - 1,
      );
      const larger = freeNetwork(prefix, [...avoid, routed], underlay.getFirst().toString());
      problems.push({
        field: key("underlayCidr"),
        value: shown(underlay.toCidrString()),
        message: `no address is left for the outside host: the ${size - 2} host addresses of the underlay are all taken (${taken.size} by hosts${routed ? " and the router" : ""})`,
        fix: `use fewer hosts, or a larger underlay${larger ? `, e.g. ${larger}` : ` (a /${prefix} or shorter)`}`,
      });
      return undefined;
    }
    address = IPv4.fromNumber(n).toString();
  } else if (typeof v.address !== "string" || !Validator.isValidIPv4String(v.address)[0]) {
    problems.push({
      field: `${key("outside")}.address`,
      value: shown(v.address),
      message: "not an IPv4 address",
      fix: "write a plain address in the underlay, e.g. 192.168.19.200",
    });
    return undefined;
  } else {
    address = v.address;
    const ip = IPv4.fromDecimalDottedString(address);
    if (!underlay.contains(single(ip))) {
      problems.push({
        field: `${key("outside")}.address`,
        value: shown(address),
        message: `outside the underlay ${underlay.toCidrString()}`,
        fix: `pick an address inside ${underlay.toCidrString()}`,
      });
    } else if (
      ip.getValue() === underlay.getFirst().getValue() ||
      ip.getValue() === underlay.getLast().getValue()
    ) {
      problems.push({
        field: `${key("outside")}.address`,
        value: shown(address),
        message: `the network or broadcast address of ${underlay.toCidrString()} cannot be a host`,
        fix: `pick a host address inside ${underlay.toCidrString()}`,
      });
    }
    const clash = hosts.find((h) => h.address === address);
    if (routed && address === routerAddress(underlay).toString()) {
      problems.push({
        field: `${key("outside")}.address`,
        value: shown(address),
        message: `the router namespace has this address (the first of ${underlay.toCidrString()})`,
        fix: "pick another address for the outside host",
      });
    }
    if (clash) {
      problems.push({
        field: `${key("outside")}.address`,
        value: shown(address),
        message: `the outside host would take ${clash.name}'s address`,
        fix: "pick a free underlay address for the outside host",
      });
    }
  }
  let asNumber: number | undefined;
  if (v.asNumber !== undefined) {
    const n = Number(v.asNumber);
    const clusterAs = raw.asNumber === undefined ? DEFAULT_CLUSTER_AS : wholeNumber(raw.asNumber);
    if (typeof v.asNumber === "boolean" || !Number.isInteger(n) || n < 1 || n > 4294967295) {
      problems.push({
        field: `${key("outside")}.asNumber`,
        value: shown(v.asNumber),
        message: "not an AS number",
        fix: "use 1..4294967295, e.g. 65001 (a private AS)",
      });
    } else if (n === 23456) {
      problems.push({
        field: `${key("outside")}.asNumber`,
        value: shown(v.asNumber),
        message: "23456 is AS_TRANS, reserved for 4-byte AS transition",
        fix: "use a private AS such as 65001",
      });
    } else if (n === clusterAs) {
      problems.push({
        field: `${key("outside")}.asNumber`,
        value: shown(v.asNumber),
        message: `the cluster's own AS (${key("asNumber")} ${clusterAs}): the outside router peers over eBGP, so it needs an AS of its own`,
        fix: `use another AS, e.g. ${clusterAs === 65001 ? 65002 : 65001}`,
      });
    } else if (mode !== undefined && !MODE_SPECS[mode].runsBgp) {
      problems.push({
        field: `${key("outside")}.asNumber`,
        value: shown(v.asNumber),
        message: `mode ${mode} runs no BGP on the nodes: the outside router would have no one to peer with`,
        fix: `remove ${key("outside")}.asNumber, or use a BGP mode such as ipip or bgp`,
      });
    } else asNumber = n;
  }
  return { address, ...(asNumber !== undefined ? { asNumber } : {}) };
}

/** The router namespace's leg in a subnet of a routed underlay: the subnet's first address. */
export function routerAddress(subnet: IPv4CidrRange): IPv4 {
  return subnet.getFirst().nextIPNumber();
}

function checkRouted(
  routed: IPv4CidrRange,
  ctx: {
    underlay: IPv4CidrRange | undefined;
    pods: IPv4CidrRange | undefined;
    services: IPv4CidrRange | undefined;
    mode: Mode;
    raw: Raw;
  },
  problems: ConfigProblem[],
): void {
  const field = key("routedCidr");
  const value = shown(ctx.raw.routedCidr);
  for (const [what, net] of [
    ["the underlay", ctx.underlay],
    ["the pod network", ctx.pods],
    ["the service network", ctx.services],
  ] as const) {
    if (net && routed.isOverlapping(net)) {
      problems.push({
        field,
        value,
        message: `the second subnet overlaps ${what} ${net.toCidrString()}`,
        fix: "pick a separate subnet, e.g. 192.168.20.0/24 beside 192.168.19.0/24",
      });
    }
  }
  if (routed.cidrPrefix.getValue() > 30n) {
    problems.push({
      field,
      value,
      message: "the second subnet has no room for the router and a host",
      fix: "use a /30 or larger, e.g. 192.168.20.0/24",
    });
  }
  // Pod traffic can cross the router only encapsulated: it knows the node subnets, never the pod blocks.
  if (isMode(ctx.mode) && !crossesRouter(ctx.mode)) {
    problems.push({
      field,
      value,
      message: `mode ${ctx.mode} does not encapsulate, and the router between the subnets knows no pod routes: pod traffic across it would be dropped`,
      fix: `use mode crosssubnet (IP-in-IP across subnets only), ipip or vxlan; or remove ${field} for a flat underlay`,
    });
  }
}

/** Records a problem for a label that is not a Kubernetes label or is one the lab sets itself. */
function checkLabel(labelsField: string, k: string, v: unknown, problems: ConfigProblem[]): boolean {
  const field = /^[A-Za-z0-9_-]+$/.test(k) ? `${labelsField}.${k}` : `${labelsField}[${JSON.stringify(k)}]`;
  const keyWhy = labelKeyProblem(k);
  if (keyWhy) {
    problems.push({
      field,
      value: shown(v),
      message: `not a Kubernetes label key: ${keyWhy}`,
      fix: 'write a key such as "worker" or "example.com/zone" (name at most 63 characters)',
    });
    return true;
  }
  if ((LAB_LABELS as readonly string[]).includes(k)) {
    problems.push({
      field,
      value: shown(v),
      message: "the lab sets this label itself on the hosts in calico-lab:routeReflectors",
      fix: `remove the label and list the host in ${key("routeReflectors")}`,
    });
    return true;
  }
  if ((NODE_LABELS as readonly string[]).includes(k)) {
    problems.push({
      field,
      value: shown(v),
      message: "every node's agent sets this label itself (the node's name, or linux), as a kubelet would",
      fix: "remove the label, or use a key of your own such as example.com/name",
    });
    return true;
  }
  if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
    problems.push({
      field,
      value: shown(v),
      message: "a label value must be a string",
      fix: 'write e.g. "no-1"',
    });
    return true;
  }
  const valueWhy = labelValueProblem(String(v));
  if (valueWhy) {
    const cleaned = String(v)
      .replace(/[^-A-Za-z0-9_.]+/g, "-")
      .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "")
      .slice(0, 63)
      .replace(/[^A-Za-z0-9]+$/, "");
    problems.push({
      field,
      value: shown(v),
      message: `not a Kubernetes label value: ${valueWhy}`,
      fix: cleaned ? `write e.g. ${shown(cleaned)}` : 'write e.g. "no-1", or "" for an empty value',
    });
    return true;
  }
  return false;
}

/**
 * The networks must not overlap. Each overlap is one cause, reported once, on the key the user wrote (a
 * default is never the culprit when the other side was set), with a fix that is itself free.
 */
function checkNetworkOverlaps(
  raw: Raw,
  nets: {
    underlay: IPv4CidrRange | undefined;
    pods: IPv4CidrRange | undefined;
    services: IPv4CidrRange | undefined;
    routed: IPv4CidrRange | undefined;
  },
  problems: ConfigProblem[],
): void {
  const { underlay, pods, services, routed } = nets;
  const all = [underlay, pods, services, routed];
  /** A suggestion per key, so that two fixes never collide with each other either. */
  const suggested = new Map<string, string | undefined>();
  const suggest = (name: string, net: IPv4CidrRange): string | undefined => {
    if (!suggested.has(name)) {
      const others = [...suggested.values()].filter((c) => c !== undefined);
      const avoid = [...all.filter((n) => n !== net), ...others.map((c) => IPv4CidrRange.fromCidr(c))];
      suggested.set(name, freeNetwork(Number(net.cidrPrefix.getValue()), avoid, net.getFirst().toString()));
    }
    return suggested.get(name);
  };
  const pair = (
    a: { name: "podCidr" | "serviceCidr"; net: IPv4CidrRange; what: string },
    b: { name: "underlayCidr" | "serviceCidr"; net: IPv4CidrRange; what: string },
    why: string,
  ) => {
    if (!a.net.isOverlapping(b.net)) return;
    // Blame the side the user set; when both or neither were set, the first (the pool or the services),
    // and move that first side in the fix (the underlay holds the hosts' addresses).
    const blameB = raw[a.name] === undefined && raw[b.name] !== undefined;
    const [culprit, other] = blameB ? [b, a] : [a, b];
    const fixNet = suggest(a.name, a.net);
    problems.push({
      field: key(culprit.name),
      value: shown(culprit.net.toCidrString()),
      message: `the ${culprit.what} overlaps the ${other.what} ${other.net.toCidrString()}${blameB ? ` (the default: ${key(other.name)} is unset)` : ""}: ${why}`,
      fix: fixNet
        ? `set ${key(a.name)} to a free network, e.g. ${fixNet} (pulumi config set ${key(a.name)} ${fixNet})`
        : `pick a ${a.what} that overlaps neither the underlay, the pods nor the services`,
    });
  };

  if (underlay && pods)
    pair(
      { name: "podCidr", net: pods, what: "pod network" },
      { name: "underlayCidr", net: underlay, what: "underlay" },
      "pod routes would hide host routes",
    );
  if (pods && services)
    pair(
      { name: "podCidr", net: pods, what: "pod network" },
      { name: "serviceCidr", net: services, what: "service network" },
      "pod addresses would shadow service addresses",
    );
  if (underlay && services)
    pair(
      { name: "serviceCidr", net: services, what: "service network" },
      { name: "underlayCidr", net: underlay, what: "underlay" },
      "service addresses would shadow host addresses",
    );
}

/**
 * The pool must give every host that takes addresses (its pods, and in IPIP, VXLAN and CrossSubnet modes
 * its tunnel address) blocks of its own: knowable here, rather than as failed pings after `up`.
 */
function checkPoolCapacity(
  raw: Raw,
  pool: IPv4CidrRange,
  hosts: readonly HostConfig[],
  pods: readonly PodConfig[],
  mode: Mode | undefined,
  underlay: IPv4CidrRange | undefined,
  services: IPv4CidrRange | undefined,
  routed: IPv4CidrRange | undefined,
  problems: ConfigProblem[],
): void {
  const blockSize = raw.blockSize === undefined ? DEFAULT_BLOCK_SIZE : wholeNumber(raw.blockSize);
  // An invalid block size is its own problem (the variant's reader reports it); nothing to compute with.
  if (blockSize === undefined || blockSize < BLOCK_SIZE_MIN || blockSize > BLOCK_SIZE_MAX) return;
  if (hosts.length === 0) return;
  const tunnels = mode !== undefined && hasTunnel(mode);
  const need = addressesPerHost(
    hosts.map((h) => h.name),
    pods.map((p) => p.host),
    tunnels,
  );
  const prefix = Number(pool.cidrPrefix.getValue());
  const have = blocksInPool(prefix, blockSize);
  const needed = blocksNeeded(need, blockSize);
  if (needed <= have) return;
  const takers = [...need.values()].filter((n) => n > 0).length;
  const size = 2 ** (32 - blockSize);
  const podPrefix = poolPrefixFor(needed, blockSize);
  const bigger = freeNetwork(podPrefix, [underlay, services, routed], pool.getFirst().toString());
  const sizes = fittingBlockSizes(need, prefix);
  const fixes = [
    ...(bigger ? [`set ${key("podCidr")} ${bigger}`] : []),
    ...(sizes.length > 0 ? [`set ${key("blockSize")} ${sizes[0]}`] : []),
  ];
  problems.push({
    field: key("podCidr"),
    value: shown(pool.toCidrString()),
    message:
      (have === 0
        ? `a /${prefix} pool cannot hold one block of /${blockSize} (${key("blockSize")} ${blockSize})`
        : `a /${prefix} pool holds ${have} block${have === 1 ? "" : "s"} of /${blockSize} (${size} address${size === 1 ? "" : "es"} each)`) +
      `, but the ${takers} host${takers === 1 ? "" : "s"} taking addresses (${pods.length} pod${pods.length === 1 ? "" : "s"}${tunnels ? ` and ${hosts.length} tunnel address${hosts.length === 1 ? "" : "es"}` : ""}) need ${needed}: each host needs blocks of its own`,
    fix: fixes.length > 0 ? fixes.join(", or ") : "use a larger pod network, or fewer pods",
  });
}
