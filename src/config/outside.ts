// Stage "outside": calico-lab:outside → the outside host's underlay address (given, or .200 / the highest
// free one) and, when it peers over eBGP with the route reflectors, its AS number.
import { IPv4, Validator, type IPv4CidrRange } from "ip-num";
import { MODE_SPECS, type Mode } from "../modes.ts";
import { problem, shown, type Problem } from "../problems.ts";
import { unknownKeys } from "./keys.ts";
import { DEFAULTS, key, type HostConfig, type OutsideConfig, type Raw } from "./model.ts";
import { routerAddress, type Networks } from "./network.ts";
import { freeNetwork } from "./pool.ts";
import { single, wholeNumber } from "./values.ts";

/** The keys of calico-lab:outside; anything else is a typo the lab would silently ignore. */
const OUTSIDE_KEYS = ["address", "asNumber"] as const;
const FIELD = key("outside");

/** `mode` is undefined when calico-lab:mode was refused. */
export function parseOutside(
  raw: Raw,
  nets: Networks,
  hosts: readonly HostConfig[],
  mode: Mode | undefined,
  problems: Problem[],
): OutsideConfig | undefined {
  const { underlay } = nets;
  if (!underlay) return undefined;
  const v = (raw.outside ?? {}) as Raw;
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    problems.push(
      problem(
        FIELD,
        raw.outside,
        "outside must be an object",
        'write e.g. {"address": "192.168.19.200", "asNumber": 65001}',
      ),
    );
    return undefined;
  }
  unknownKeys(FIELD, v, OUTSIDE_KEYS, problems);
  const address =
    v.address === undefined
      ? freeOutsideAddress(nets, underlay, hosts, problems)
      : givenOutsideAddress(v.address, underlay, nets.routed, hosts, problems);
  if (address === undefined) return undefined;
  const asNumber = v.asNumber === undefined ? undefined : outsideAs(raw, v.asNumber, mode, problems);
  return { address, ...(asNumber !== undefined ? { asNumber } : {}) };
}

/** .200 when it is inside and free, else the highest free address: never a problem of the user's making. */
function freeOutsideAddress(
  nets: Networks,
  underlay: IPv4CidrRange,
  hosts: readonly HostConfig[],
  problems: Problem[],
): string | undefined {
  const { routed } = nets;
  const taken = new Set(hosts.map((h) => h.address));
  if (routed) taken.add(routerAddress(underlay).toString());
  const last = underlay.getLast().getValue();
  const first = underlay.getFirst().getValue();
  const wanted = first + BigInt(DEFAULTS.outsideOffset);
  let n = wanted < last ? wanted : last - 1n;
  while (n > first && taken.has(IPv4.fromNumber(n).toString())) n--;
  // Nothing free below .200: the first free address above it.
  if (n <= first) for (n = wanted + 1n; n < last && taken.has(IPv4.fromNumber(n).toString()); n++);
  if (n > first && n < last) return IPv4.fromNumber(n).toString();
  const size = Number(last - first + 1n);
  // The smallest network holding the hosts, the outside host, network and broadcast addresses.
  const prefix = Math.min(
    32 - Math.ceil(Math.log2(taken.size + 1 + 2)),
    Number(underlay.cidrPrefix.getValue()) - 1,
  );
  // The pod and service networks: a larger underlay suggested must not take them.
  const larger = freeNetwork(prefix, [nets.pods, nets.services, routed], underlay.getFirst().toString());
  problems.push(
    problem(
      key("underlayCidr"),
      underlay.toCidrString(),
      `no address is left for the outside host: the ${size - 2} host addresses of the underlay are all taken (${taken.size} by hosts${routed ? " and the router" : ""})`,
      `use fewer hosts, or a larger underlay${larger ? `, e.g. ${larger}` : ` (a /${prefix} or shorter)`}`,
    ),
  );
  return undefined;
}

/** The address written: a host address of the first subnet that neither a host nor the router has. */
function givenOutsideAddress(
  written: unknown,
  underlay: IPv4CidrRange,
  routed: IPv4CidrRange | undefined,
  hosts: readonly HostConfig[],
  problems: Problem[],
): string | undefined {
  const field = `${FIELD}.address`;
  if (typeof written !== "string" || !Validator.isValidIPv4String(written)[0]) {
    problems.push(
      problem(
        field,
        written,
        "not an IPv4 address",
        "write a plain address in the underlay, e.g. 192.168.19.200",
      ),
    );
    return undefined;
  }
  const address = written;
  const bad = (message: string, fix: string) => problems.push({ field, value: shown(address), message, fix });
  const ip = IPv4.fromDecimalDottedString(address);
  const where = underlay.toCidrString();
  if (!underlay.contains(single(ip))) bad(`outside the underlay ${where}`, `pick an address inside ${where}`);
  else if (
    ip.getValue() === underlay.getFirst().getValue() ||
    ip.getValue() === underlay.getLast().getValue()
  )
    bad(
      `the network or broadcast address of ${where} cannot be a host`,
      `pick a host address inside ${where}`,
    );
  if (routed && address === routerAddress(underlay).toString())
    bad(
      `the router namespace has this address (the first of ${where})`,
      "pick another address for the outside host",
    );
  const clash = hosts.find((h) => h.address === address);
  if (clash)
    bad(
      `the outside host would take ${clash.name}'s address`,
      "pick a free underlay address for the outside host",
    );
  return address;
}

/** The outside router's AS: a valid AS number of its own, in a mode whose nodes run BGP. */
function outsideAs(
  raw: Raw,
  written: unknown,
  mode: Mode | undefined,
  problems: Problem[],
): number | undefined {
  const bad = (message: string, fix: string) => {
    problems.push({ field: `${FIELD}.asNumber`, value: shown(written), message, fix });
    return undefined;
  };
  const n = Number(written);
  const clusterAs = raw.asNumber === undefined ? DEFAULTS.asNumber : wholeNumber(raw.asNumber);
  if (typeof written === "boolean" || !Number.isInteger(n) || n < 1 || n > 4294967295)
    return bad("not an AS number", "use 1..4294967295, e.g. 65001 (a private AS)");
  if (n === 23456)
    return bad("23456 is AS_TRANS, reserved for 4-byte AS transition", "use a private AS such as 65001");
  if (n === clusterAs)
    return bad(
      `the cluster's own AS (${key("asNumber")} ${clusterAs}): the outside router peers over eBGP, so it needs an AS of its own`,
      `use another AS, e.g. ${clusterAs === 65001 ? 65002 : 65001}`,
    );
  if (mode !== undefined && !MODE_SPECS[mode].runsBgp)
    return bad(
      `mode ${mode} runs no BGP on the nodes: the outside router would have no one to peer with`,
      `remove ${FIELD}.asNumber, or use a BGP mode such as ipip or bgp`,
    );
  return n;
}
