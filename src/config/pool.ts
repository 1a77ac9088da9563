// Pool arithmetic knowable at preview: how many IPAM blocks the lab's hosts need, and free CIDRs to suggest.
import { IPv4, IPv4CidrRange, IPv4Prefix } from "ip-num";

/** Calico's limits on an IPv4 pool's block size (docs: IPPool spec.blockSize, 20 to 32). */
export const BLOCK_SIZE_MIN = 20;
export const BLOCK_SIZE_MAX = 32;

/**
 * Addresses each host takes from the pool: its pods, plus one tunnel address in the modes that give every
 * node a tunnel device (IPIP, VXLAN, CrossSubnet). The lab's routes follow block affinity, so every host
 * that takes an address needs blocks of its own (a borrowed address would have no route).
 */
export function addressesPerHost(
  hosts: readonly string[],
  podHosts: readonly string[],
  tunnels: boolean,
): Map<string, number> {
  const need = new Map(hosts.map((h) => [h, tunnels ? 1 : 0]));
  for (const h of podHosts) need.set(h, (need.get(h) ?? 0) + 1);
  return need;
}

/** Blocks of /blockSize the hosts need. */
export function blocksNeeded(need: ReadonlyMap<string, number>, blockSize: number): number {
  const size = 2 ** (32 - blockSize);
  let blocks = 0;
  for (const n of need.values()) blocks += Math.ceil(n / size);
  return blocks;
}

/** Blocks of /blockSize a /prefix pool holds (none when the pool is smaller than one block). */
export function blocksInPool(prefix: number, blockSize: number): number {
  return prefix > blockSize ? 0 : 2 ** (blockSize - prefix);
}

/** The longest pool prefix that holds `blocks` blocks of /blockSize. */
export function poolPrefixFor(blocks: number, blockSize: number): number {
  return blockSize - Math.ceil(Math.log2(Math.max(1, blocks)));
}

/** Block sizes from Calico's range that would fit the hosts in a /prefix pool, nearest 26 first. */
export function fittingBlockSizes(need: ReadonlyMap<string, number>, prefix: number): number[] {
  const out: number[] = [];
  for (let b = Math.max(prefix, BLOCK_SIZE_MIN); b <= BLOCK_SIZE_MAX; b++)
    if (blocksNeeded(need, b) <= blocksInPool(prefix, b)) out.push(b);
  return out.sort((a, b) => Math.abs(a - 26) - Math.abs(b - 26) || a - b);
}

/** Private ranges to suggest a network from, in order of preference. */
const CANDIDATE_BASES = ["10.244.0.0", "172.16.0.0", "100.64.0.0", "10.32.0.0", "192.168.0.0", "10.0.0.0"];

/**
 * A /prefix network overlapping none of `avoid`: first `preferred` (its base masked to the prefix), then the
 * candidate ranges, then the whole of 10/8, 172.16/12 and 100.64/10 scanned in steps of the prefix.
 */
export function freeNetwork(
  prefix: number,
  avoid: readonly (IPv4CidrRange | undefined)[],
  preferred?: string,
): string | undefined {
  const taken = avoid.filter((a): a is IPv4CidrRange => a !== undefined);
  const free = (base: string) => {
    const r = masked(base, prefix);
    return taken.some((t) => t.isOverlapping(r)) ? undefined : r.toCidrString();
  };
  for (const base of [...(preferred ? [preferred] : []), ...CANDIDATE_BASES]) {
    const r = free(base);
    if (r) return r;
  }
  for (const [base, len] of [
    ["10.0.0.0", 8],
    ["172.16.0.0", 12],
    ["100.64.0.0", 10],
  ] as const) {
    if (prefix < len) continue;
    const step = 2n ** BigInt(32 - prefix);
    const start = IPv4.fromDecimalDottedString(base).getValue();
    const end = start + 2n ** BigInt(32 - len);
    // At most 4096 tries per range: a suggestion, not a search of the address space.
    for (let n = start, tries = 0; n < end && tries < 4096; n += step, tries++) {
      const r = free(IPv4.fromNumber(n).toString());
      if (r) return r;
    }
  }
  return undefined;
}

function masked(address: string, prefix: number): IPv4CidrRange {
  const v = IPv4.fromDecimalDottedString(address).getValue();
  const size = 2n ** BigInt(32 - prefix);
  return new IPv4CidrRange(IPv4.fromNumber((v / size) * size), new IPv4Prefix(BigInt(prefix)));
}
