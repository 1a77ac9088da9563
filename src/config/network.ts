// Stage "network": the underlay (flat or routed), pod and service networks, each parsed and checked against
// the others; and, once hosts and pods are known, whether the pool has a block for every host taking one.
import { type IPv4, IPv4CidrRange } from "ip-num";
import { crossesRouter, hasTunnel, type Mode } from "../modes.ts";
import { problem, shown, type Problem } from "../problems.ts";
import { DEFAULTS, key, type HostConfig, type PodConfig, type Raw } from "./model.ts";
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
import { parseNetwork, wholeNumber } from "./values.ts";

/** The lab's networks; each undefined when its key was refused. */
export interface Networks {
  underlay: IPv4CidrRange | undefined;
  pods: IPv4CidrRange | undefined;
  services: IPv4CidrRange | undefined;
  /** A routed underlay's second subnet, when calico-lab:routedCidr is set and valid. */
  routed: IPv4CidrRange | undefined;
}

/** The router namespace's leg in a subnet of a routed underlay: the subnet's first address. */
export function routerAddress(subnet: IPv4CidrRange): IPv4 {
  return subnet.getFirst().nextIPNumber();
}

/** `mode` is undefined when calico-lab:mode was refused. */
export function parseNetworks(raw: Raw, mode: Mode | undefined, problems: Problem[]): Networks {
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
  const nets = { underlay, pods, services, routed };
  checkNetworkOverlaps(raw, nets, problems);
  return nets;
}

function checkRouted(
  routed: IPv4CidrRange,
  ctx: Omit<Networks, "routed"> & { mode: Mode | undefined; raw: Raw },
  problems: Problem[],
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
  if (ctx.mode !== undefined && !crossesRouter(ctx.mode)) {
    problems.push({
      field,
      value,
      message: `mode ${ctx.mode} does not encapsulate, and the router between the subnets knows no pod routes: pod traffic across it would be dropped`,
      fix: `use mode crosssubnet (IP-in-IP across subnets only), ipip or vxlan; or remove ${field} for a flat underlay`,
    });
  }
}

interface Side<N extends string> {
  name: N;
  net: IPv4CidrRange;
  what: string;
}

/**
 * The networks must not overlap. Each overlap is one cause, reported once, on the key the user wrote (a
 * default is never the culprit when the other side was set), with a fix that is itself free.
 */
function checkNetworkOverlaps(raw: Raw, nets: Networks, problems: Problem[]): void {
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
    a: Side<"podCidr" | "serviceCidr">,
    b: Side<"underlayCidr" | "serviceCidr">,
    why: string,
  ): void => {
    if (!a.net.isOverlapping(b.net)) return;
    // Blame the side the user set; when both or neither were set, the first (the pool or the services),
    // and move that first side in the fix (the underlay holds the hosts' addresses).
    const blameB = raw[a.name] === undefined && raw[b.name] !== undefined;
    const [culprit, other] = blameB ? [b, a] : [a, b];
    const fixNet = suggest(a.name, a.net);
    problems.push(
      problem(
        key(culprit.name),
        culprit.net.toCidrString(),
        `the ${culprit.what} overlaps the ${other.what} ${other.net.toCidrString()}${blameB ? ` (the default: ${key(other.name)} is unset)` : ""}: ${why}`,
        fixNet
          ? `set ${key(a.name)} to a free network, e.g. ${fixNet} (pulumi config set ${key(a.name)} ${fixNet})`
          : `pick a ${a.what} that overlaps neither the underlay, the pods nor the services`,
      ),
    );
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
export function checkPoolCapacity(
  raw: Raw,
  nets: Networks & { pods: IPv4CidrRange },
  hosts: readonly HostConfig[],
  pods: readonly PodConfig[],
  mode: Mode | undefined,
  problems: Problem[],
): void {
  const pool = nets.pods;
  const blockSize = raw.blockSize === undefined ? DEFAULTS.blockSize : wholeNumber(raw.blockSize);
  // An invalid block size is its own problem (the variant stage reports it); nothing to compute with.
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
  const bigger = freeNetwork(
    podPrefix,
    [nets.underlay, nets.services, nets.routed],
    pool.getFirst().toString(),
  );
  const sizes = fittingBlockSizes(need, prefix);
  const fixes = [
    ...(bigger ? [`set ${key("podCidr")} ${bigger}`] : []),
    ...(sizes.length > 0 ? [`set ${key("blockSize")} ${sizes[0]}`] : []),
  ];
  problems.push(
    problem(
      key("podCidr"),
      pool.toCidrString(),
      (have === 0
        ? `a /${prefix} pool cannot hold one block of /${blockSize} (${key("blockSize")} ${blockSize})`
        : `a /${prefix} pool holds ${have} block${have === 1 ? "" : "s"} of /${blockSize} (${size} address${size === 1 ? "" : "es"} each)`) +
        `, but the ${takers} host${takers === 1 ? "" : "s"} taking addresses (${pods.length} pod${pods.length === 1 ? "" : "s"}${tunnels ? ` and ${hosts.length} tunnel address${hosts.length === 1 ? "" : "es"}` : ""}) need ${needed}: each host needs blocks of its own`,
      fixes.length > 0 ? fixes.join(", or ") : "use a larger pod network, or fewer pods",
    ),
  );
}
