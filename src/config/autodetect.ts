// calico-lab:autodetect against the lab itself: a method that is well-formed (src/manifest checks that) can
// still find no address on the lab's hosts, which only shows when an agent fails after resources exist.
import { IPv4, IPv4CidrRange, Validator } from "ip-num";
import { parseAutodetectMethod } from "../manifest/autodetect-method.ts";
import { HOST_UNDERLAY_IF } from "../lab/topology.ts";
import { problem, type Problem } from "../problems.ts";
import { SEED_ETCD_ADDRESS, etcdHostOf } from "./etcd.ts";
import { key } from "./model.ts";
import { single } from "./values.ts";

const FIELD = key("autodetect");

/** Go's IsGlobalUnicast for IPv4, as calico-node applies it to candidate addresses. */
function globalUnicast(ip: IPv4): boolean {
  const [a, b] = ip.toString().split(".").map(Number) as [number, number];
  return !(a === 0 || a === 127 || a >= 224 || (a === 169 && b === 254));
}

export function checkAutodetect(
  value: unknown,
  lab: {
    hosts: readonly { name: string; address: string }[];
    pods: IPv4CidrRange | undefined;
    /** The underlay's subnets (one, or two when routed). */
    subnets: readonly IPv4CidrRange[];
  },
  problems: Problem[],
): void {
  if (typeof value !== "string") return; // the variant's reader reports a non-string
  const parsed = parseAutodetectMethod(value, FIELD);
  if (!parsed.ok) return; // a malformed method is reported by the variant's reader
  const m = parsed.method;
  // An address every host can reach: the first host's (etcd's), or where the seeds put it.
  const master = etcdHostOf(lab)?.address ?? SEED_ETCD_ADDRESS;
  const add = (message: string, fix: string) => problems.push(problem(FIELD, value, message, fix));
  switch (m.kind) {
    case "first-found":
      return;
    case "kubernetes-internal-ip":
      add(
        "the lab has no Kubernetes API to read a node's internal IP from",
        `use "first-found" or "can-reach=${master}"`,
      );
      return;
    case "can-reach": {
      const why = canReachProblem(m.destination, lab.pods);
      if (why) add(why, `use an underlay address, e.g. "can-reach=${master}"`);
      return;
    }
    case "interface": {
      if (!m.patterns.some((p) => new RegExp(p).test(HOST_UNDERLAY_IF))) {
        add(
          `no pattern matches the hosts' underlay interface ${HOST_UNDERLAY_IF}: no host would find its address`,
          `use "interface=${HOST_UNDERLAY_IF}" (or a pattern matching it, e.g. "interface=eth.*")`,
        );
      }
      return;
    }
    case "skip-interface": {
      const hit = m.patterns.find((p) => new RegExp(p).test(HOST_UNDERLAY_IF));
      if (hit !== undefined) {
        add(
          `"${hit}" skips the hosts' underlay interface ${HOST_UNDERLAY_IF}, their only address`,
          `remove that pattern, e.g. "skip-interface=docker.*"`,
        );
      }
      return;
    }
    case "cidr": {
      const missed = lab.hosts.filter((h) => !m.cidrs.some((c) => holds(c, h.address)));
      if (missed.length > 0) {
        add(
          `no listed network holds the address of ${missed.map((h) => `${h.name} (${h.address})`).join(", ")}`,
          lab.subnets.length > 0
            ? `list networks holding every host's address, e.g. "cidr=${lab.subnets.map((n) => n.toCidrString()).join(",")}"`
            : "list networks holding every host's address",
        );
      }
      return;
    }
  }
}

/** Why can-reach=<destination> finds no underlay address, if it does not. */
function canReachProblem(destination: string, pods: IPv4CidrRange | undefined): string | undefined {
  if (!Validator.isValidIPv4String(destination)[0])
    return `"${destination}" is not an IPv4 address: the lab's agent finds the route to an address and resolves no names`;
  const ip = IPv4.fromDecimalDottedString(destination);
  if (pods?.contains(single(ip)))
    return `${destination} is in the pod network: the route to it is a pod route, not the underlay's`;
  if (!globalUnicast(ip))
    return `${destination} is not a unicast address: the route to it does not leave by the underlay`;
  return undefined;
}

/** Whether a CIDR holds an address. */
function holds(cidr: string, address: string): boolean {
  return IPv4CidrRange.fromCidr(cidr).contains(single(IPv4.fromDecimalDottedString(address)));
}
