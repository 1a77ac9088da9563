// Pure block math (libcalico-go's AllocationBlock semantics): ordinals, allocations, the unallocated queue,
// attributes. Every function returns a new block; nothing here talks to etcd.
import { IPv4, IPv4CidrRange } from "ip-num";
import type { AllocationAttribute, AllocationBlock } from "../datastore/keys.ts";

export interface Cidr4 {
  /** Network address as a number. */
  base: bigint;
  prefix: number;
}

/** Parses "a.b.c.d/NN"; the address must be the network address when `strict`. */
export function parseCidr(cidr: string, strict = true): Cidr4 {
  const [addr, len, ...rest] = cidr.split("/");
  if (addr === undefined || len === undefined || rest.length > 0 || !/^\d{1,2}$/.test(len)) {
    throw new Error(`invalid IPv4 CIDR "${cidr}"`);
  }
  const prefix = Number(len);
  if (prefix > 32) throw new Error(`invalid IPv4 CIDR "${cidr}"`);
  const value = IPv4.fromDecimalDottedString(addr).getValue();
  const size = 1n << BigInt(32 - prefix);
  const base = (value / size) * size;
  if (strict && base !== value)
    throw new Error(`"${cidr}" is not a network address (did you mean ${formatCidr({ base, prefix })}?)`);
  return { base, prefix };
}

export function formatIp(value: bigint): string {
  return IPv4.fromNumber(value).toString();
}

export function ipValue(ip: string): bigint {
  return IPv4.fromDecimalDottedString(ip).getValue();
}

export function formatCidr(c: Cidr4): string {
  return `${formatIp(c.base)}/${c.prefix}`;
}

export function cidrSize(c: Cidr4): bigint {
  return 1n << BigInt(32 - c.prefix);
}

export function cidrContains(outer: Cidr4, ip: bigint): boolean {
  return ip >= outer.base && ip < outer.base + cidrSize(outer);
}

/** Uses ip-num to check that `inner` lies inside `outer` (both CIDR strings). */
export function cidrInside(inner: string, outer: string): boolean {
  return IPv4CidrRange.fromCidr(inner).inside(IPv4CidrRange.fromCidr(outer));
}

/** Number of blocks of `blockSize` in the pool. */
export function blockCount(poolCidr: string, blockSize: number): number {
  const pool = parseCidr(poolCidr);
  if (blockSize < pool.prefix || blockSize > 32) {
    throw new Error(`block size /${blockSize} does not fit pool ${poolCidr}`);
  }
  return 2 ** (blockSize - pool.prefix);
}

/** The i-th block CIDR of the pool. */
export function blockCidrAt(poolCidr: string, blockSize: number, index: number): string {
  const pool = parseCidr(poolCidr);
  const n = blockCount(poolCidr, blockSize);
  if (!Number.isInteger(index) || index < 0 || index >= n)
    throw new Error(`block index ${index} out of range`);
  return formatCidr({ base: pool.base + BigInt(index) * (1n << BigInt(32 - blockSize)), prefix: blockSize });
}

/** 32-bit FNV-1a of a string: a stable per-node starting point for the block search. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, "utf8")) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Block indices in the order a host tries them when claiming a new block. Calico starts at a
 * host-seeded random block and walks forward, wrapping; we seed with FNV-1a of the host name.
 */
export function* blockSearchOrder(poolCidr: string, blockSize: number, host: string): Generator<string> {
  const n = blockCount(poolCidr, blockSize);
  const start = fnv1a32(host) % n;
  for (let i = 0; i < n; i++) yield blockCidrAt(poolCidr, blockSize, (start + i) % n);
}

export function newBlock(cidr: string, affinity: string | null): AllocationBlock {
  const size = Number(cidrSize(parseCidr(cidr)));
  return {
    cidr,
    affinity,
    strictAffinity: false,
    allocations: new Array<number | null>(size).fill(null),
    unallocated: Array.from({ length: size }, (_, i) => i),
    attributes: [],
    deleted: false,
  };
}

export function ordinalToIp(block: AllocationBlock, ordinal: number): string {
  const c = parseCidr(block.cidr);
  if (!Number.isInteger(ordinal) || ordinal < 0 || BigInt(ordinal) >= cidrSize(c)) {
    throw new Error(`ordinal ${ordinal} outside ${block.cidr}`);
  }
  return formatIp(c.base + BigInt(ordinal));
}

export function ipToOrdinal(block: AllocationBlock, ip: string): number {
  const c = parseCidr(block.cidr);
  const v = ipValue(ip);
  if (!cidrContains(c, v)) throw new Error(`${ip} is not in block ${block.cidr}`);
  return Number(v - c.base);
}

export function freeCount(block: AllocationBlock): number {
  return block.unallocated.length;
}

export function usedCount(block: AllocationBlock): number {
  return block.allocations.filter((a) => a !== null).length;
}

function sameAttr(a: AllocationAttribute, handleId: string | null, secondary: Record<string, string> | null) {
  return a.handle_id === handleId && JSON.stringify(a.secondary) === JSON.stringify(secondary);
}

function clone(block: AllocationBlock): AllocationBlock {
  return {
    ...block,
    allocations: [...block.allocations],
    unallocated: [...block.unallocated],
    attributes: block.attributes.map((a) => ({
      handle_id: a.handle_id,
      secondary: a.secondary ? { ...a.secondary } : null,
    })),
  };
}

/**
 * Takes up to `num` ordinals from the front of the unallocated queue (lowest free first on a
 * fresh block; released ordinals were put at the back). Returns the new block and the IPs.
 */
export function assignFromBlock(
  block: AllocationBlock,
  num: number,
  handleId: string | null,
  secondary: Record<string, string> | null,
): { block: AllocationBlock; ips: string[]; ordinals: number[] } {
  const next = clone(block);
  const take = Math.min(num, next.unallocated.length);
  if (take === 0) return { block: next, ips: [], ordinals: [] };
  let attrIdx = next.attributes.findIndex((a) => sameAttr(a, handleId, secondary));
  if (attrIdx < 0) {
    next.attributes.push({ handle_id: handleId, secondary: secondary ? { ...secondary } : null });
    attrIdx = next.attributes.length - 1;
  }
  const ordinals = next.unallocated.splice(0, take);
  for (const o of ordinals) {
    if (next.allocations[o] !== null)
      throw new Error(`block ${block.cidr} corrupt: ordinal ${o} both free and used`);
    next.allocations[o] = attrIdx;
  }
  return { block: next, ips: ordinals.map((o) => ordinalToIp(next, o)), ordinals };
}

/** Drops attributes no allocation refers to and renumbers the rest (Calico's deleteAttributes). */
function compactAttributes(block: AllocationBlock): void {
  const used = new Set(block.allocations.filter((a): a is number => a !== null));
  const remap = new Map<number, number>();
  const kept: AllocationAttribute[] = [];
  block.attributes.forEach((a, i) => {
    if (used.has(i)) {
      remap.set(i, kept.length);
      kept.push(a);
    }
  });
  block.attributes = kept;
  block.allocations = block.allocations.map((a) => (a === null ? null : (remap.get(a) ?? null)));
}

function releaseOrdinals(block: AllocationBlock, ordinals: number[]): AllocationBlock {
  const next = clone(block);
  for (const o of ordinals) {
    if (next.allocations[o] === null || next.allocations[o] === undefined) continue;
    next.allocations[o] = null;
    next.unallocated.push(o); // released addresses go to the back of the queue
  }
  compactAttributes(next);
  return next;
}

/** Releases the given IPs (those not allocated are reported back, not an error). */
export function releaseIps(
  block: AllocationBlock,
  ips: string[],
): { block: AllocationBlock; released: string[] } {
  const ordinals = ips.map((ip) => ipToOrdinal(block, ip)).filter((o) => block.allocations[o] !== null);
  return { block: releaseOrdinals(block, ordinals), released: ordinals.map((o) => ordinalToIp(block, o)) };
}

export function ordinalsForHandle(block: AllocationBlock, handleId: string): number[] {
  const out: number[] = [];
  block.allocations.forEach((a, o) => {
    if (a !== null && block.attributes[a]?.handle_id === handleId) out.push(o);
  });
  return out;
}

export function ipsForHandle(block: AllocationBlock, handleId: string): string[] {
  return ordinalsForHandle(block, handleId).map((o) => ordinalToIp(block, o));
}

/** Releases every address the handle holds in this block. */
export function releaseByHandle(
  block: AllocationBlock,
  handleId: string,
): { block: AllocationBlock; released: string[] } {
  const ordinals = ordinalsForHandle(block, handleId);
  return { block: releaseOrdinals(block, ordinals), released: ordinals.map((o) => ordinalToIp(block, o)) };
}

/** Sanity check of the invariants every stored block must keep. Returns problems found. */
export function checkBlock(block: AllocationBlock): string[] {
  const problems: string[] = [];
  const size = Number(cidrSize(parseCidr(block.cidr)));
  if (block.allocations.length !== size)
    problems.push(`allocations has ${block.allocations.length} entries, want ${size}`);
  const free = new Set(block.unallocated);
  if (free.size !== block.unallocated.length) problems.push("unallocated has duplicates");
  block.allocations.forEach((a, o) => {
    if (a === null && !free.has(o)) problems.push(`ordinal ${o} neither allocated nor free`);
    if (a !== null && free.has(o)) problems.push(`ordinal ${o} both allocated and free`);
    if (a !== null && (a < 0 || a >= block.attributes.length))
      problems.push(`ordinal ${o} bad attribute ${a}`);
  });
  return problems;
}
