// Typed readers for stack config values (Pulumi hands numbers and booleans over as text): each returns the
// value or records a problem naming the key, the value seen and the fix.
import { IPv4, IPv4CidrRange, IPv4Prefix, Validator } from "ip-num";
import { shown, type Problem } from "../problems.ts";
import { key, type Raw } from "./model.ts";

/** A whole number from a config value (Pulumi hands numbers over as text), or undefined. */
export function wholeNumber(v: unknown): number | undefined {
  const n = typeof v === "string" && /^-?[0-9]+$/.test(v.trim()) ? Number(v) : v;
  return typeof n === "number" && Number.isInteger(n) ? n : undefined;
}

/** The one-address range of an IPv4 address, for `contains`. */
export function single(ip: IPv4): IPv4CidrRange {
  return new IPv4CidrRange(ip, new IPv4Prefix(32n));
}

/** Ranges a lab network must not touch: the kernel treats their addresses specially. */
const SPECIAL_RANGES = [
  ["0.0.0.0/8", '"this network"'],
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local"],
  ["224.0.0.0/3", "multicast and reserved, up to the broadcast address"],
] as const;

/** Parses a CIDR that must be a network address; records a problem and returns undefined otherwise. */
export function parseNetwork(
  field: string,
  value: unknown,
  problems: Problem[],
  example: string,
): IPv4CidrRange | undefined {
  const bad = (message: string, fix: string) => {
    problems.push({ field, value: shown(value), message, fix });
    return undefined;
  };
  if (typeof value !== "string" || !Validator.isValidIPv4CidrNotation(value)[0])
    return bad("not an IPv4 CIDR", `write a network as a.b.c.d/len, e.g. ${example}`);
  const range = IPv4CidrRange.fromCidr(value);
  if (!Validator.isValidIPv4CidrRange(value)[0])
    return bad(
      "host bits are set",
      `use the network address ${range.getFirst().toString()}/${range.cidrPrefix.getValue()}`,
    );
  const special = SPECIAL_RANGES.find(([cidr]) => IPv4CidrRange.fromCidr(cidr).isOverlapping(range));
  if (special)
    return bad(
      `overlaps ${special[0]} (${special[1]}): no lab address may be there`,
      `use a private unicast network, e.g. ${example}`,
    );
  return range;
}

/** Readers of top-level keys as the Calico variant takes them: a wrong type is a problem, unset is undefined. */
export interface ValueReaders {
  str(k: string): string | undefined;
  int(k: string): number | undefined;
  bool(k: string): boolean | undefined;
}

export function valueReaders(raw: Raw, problems: Problem[]): ValueReaders {
  const bad = (k: string, value: unknown, message: string, fix: string) =>
    problems.push({ field: key(k), value: shown(value), message, fix });
  return {
    str(k) {
      const v = raw[k];
      if (v === undefined || typeof v === "string") return v;
      bad(k, v, "not a string", `quote it in the stack file`);
      return undefined;
    },
    int(k) {
      const v = raw[k];
      if (v === undefined) return undefined;
      const n = wholeNumber(v);
      if (n !== undefined) return n;
      const example = k === "mtu" ? 1500 : k === "blockSize" ? 26 : 64512;
      bad(k, v, "not a whole number", `write a number, e.g. ${example}`);
      return undefined;
    },
    bool(k) {
      const v = raw[k];
      if (v === undefined) return undefined;
      if (typeof v === "boolean") return v;
      if (v === "true" || v === "false") return v === "true";
      bad(k, v, "not a boolean", "write true or false");
      return undefined;
    },
  };
}
