// calico-lab:autodetect against the lab itself: a method that is well-formed (src/manifest checks that) can
// still find no address on the lab's hosts, which only shows when an agent fails after resources exist.
import { IPv4, IPv4CidrRange, IPv4Prefix, Validator } from "ip-num";
import { parseAutodetectMethod } from "../manifest/autodetect-method.ts";
import { HOST_UNDERLAY_IF } from "../lab/topology.ts";
import { shown, type Problem } from "../problems.ts";

const FIELD = "calico-lab:autodetect";

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
  const master = lab.hosts[0]?.address ?? "192.168.19.165";
  const add = (message: string, fix: string) =>
    problems.push({ field: FIELD, value: shown(value), message, fix });
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
      if (!Validator.isValidIPv4String(m.destination)[0]) {
        add(
          `"${m.destination}" is not an IPv4 address: the lab's agent finds the route to an address and resolves no names`,
          `use an underlay address, e.g. "can-reach=${master}"`,
        );
        return;
      }
      const ip = IPv4.fromDecimalDottedString(m.destination);
      const inPods = lab.pods?.contains(new IPv4CidrRange(ip, new IPv4Prefix(32n)));
      if (!globalUnicast(ip) || inPods) {
        add(
          inPods
            ? `${m.destination} is in the pod network: the route to it is a pod route, not the underlay's`
            : `${m.destination} is not a unicast address: the route to it does not leave by the underlay`,
          `use an underlay address, e.g. "can-reach=${master}"`,
        );
      }
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
      const nets = m.cidrs.map((c) => IPv4CidrRange.fromCidr(c));
      const missed = lab.hosts.filter(
        (h) =>
          !nets.some((n) =>
            n.contains(new IPv4CidrRange(IPv4.fromDecimalDottedString(h.address), new IPv4Prefix(32n))),
          ),
      );
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
