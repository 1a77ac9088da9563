// Calico's block-affinity IPAM against etcd. Every write is a compare-and-swap transaction, so
// concurrent allocators on many nodes never hand out one address twice.
//
//   claim:   affinity "pending" (create-only) → block written (create-only) → affinity "confirmed"
//   assign:  lowest free ordinal of an affine block; block + handle updated in ONE etcd transaction
//   borrow:  when the pool has no unclaimed block (strictAffinity off), from other nodes' blocks
//   release: by handle (idempotent), ordinals go to the back of the block's free queue
import {
  BLOCK_PREFIX,
  blockAffinityKey,
  blockCidrFromKey,
  blockKey,
  handleKey,
  hostAffinityPrefix,
  parseBlockAffinityKey,
  type AllocationBlock,
  type BlockAffinity,
  type IPAMHandle,
} from "../datastore/keys.ts";
import type { CasOp, Datastore } from "../datastore/etcd.ts";
import {
  assignFromBlock,
  blockSearchOrder,
  cidrInside,
  freeCount,
  ipsForHandle,
  newBlock,
  releaseByHandle as releaseInBlock,
} from "./block.ts";

export interface PoolRef {
  cidr: string;
  blockSize: number;
}

export interface AssignRequest {
  host: string;
  handleId: string;
  /** Stored in the block's attribute "secondary" (Calico: node, pod, namespace, timestamp...). */
  attrs?: Record<string, string>;
  num?: number;
  /** Pools usable for this request (enabled, selecting the node), in preference order. */
  pools: PoolRef[];
}

export interface IpamOptions {
  strictAffinity?: boolean;
  /** How many CAS conflicts on one block before giving up (they mean heavy contention). */
  maxConflicts?: number;
  log?: (msg: string) => void;
}

export class IpamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IpamError";
  }
}

const affinityOf = (host: string) => `host:${host}`;

export class Ipam {
  private readonly strictAffinity: boolean;
  private readonly maxConflicts: number;
  private readonly log: (msg: string) => void;
  /** Per host: the affine block that last had room (a hint; always re-read before use). */
  private readonly hint = new Map<string, string>();
  /** Handles of requests in their first attempt: not in etcd yet as far as we know. */
  private readonly freshHandles = new Set<string>();

  constructor(
    private readonly ds: Datastore,
    options: IpamOptions = {},
  ) {
    this.strictAffinity = options.strictAffinity ?? false;
    this.maxConflicts = options.maxConflicts ?? 200;
    this.log = options.log ?? (() => {});
  }

  // ---------- reads ----------

  async getBlock(cidr: string): Promise<{ value: AllocationBlock; rev: string } | null> {
    return this.ds.getJson<AllocationBlock>(blockKey(cidr));
  }

  async listBlocks(): Promise<AllocationBlock[]> {
    return (await this.ds.listJson<AllocationBlock>(BLOCK_PREFIX)).map((kv) => kv.value);
  }

  async getHandle(handleId: string): Promise<{ value: IPAMHandle; rev: string } | null> {
    return this.ds.getJson<IPAMHandle>(handleKey(handleId));
  }

  /** Affinities this host holds: CIDR → state and revision. */
  async affinities(host: string): Promise<{ cidr: string; state: BlockAffinity["state"]; rev: string }[]> {
    const out: { cidr: string; state: BlockAffinity["state"]; rev: string }[] = [];
    for (const kv of await this.ds.listJson<BlockAffinity>(hostAffinityPrefix(host))) {
      const parsed = parseBlockAffinityKey(kv.key);
      if (parsed) out.push({ cidr: parsed.cidr, state: kv.value.state, rev: kv.rev });
    }
    return out;
  }

  /** Addresses the handle holds now. */
  async ipsByHandle(handleId: string): Promise<string[]> {
    const h = await this.getHandle(handleId);
    if (!h) return [];
    const ips: string[] = [];
    for (const cidr of Object.keys(h.value.block)) {
      const b = await this.getBlock(cidr);
      if (b) ips.push(...ipsForHandle(b.value, handleId));
    }
    return ips;
  }

  // ---------- assign ----------

  /**
   * Assigns `num` (default 1) addresses for the handle. Retries through etcd outages up to the
   * datastore's deadline; a retry first looks at what the handle already holds, so an attempt whose
   * commit landed but whose answer was lost is not assigned twice.
   */
  async autoAssign(req: AssignRequest): Promise<string[]> {
    const num = req.num ?? 1;
    if (req.pools.length === 0) throw new IpamError(`no IP pool is usable by node ${req.host}`);
    let attempt = 0;
    return this.ds.withRetry(`assign for ${req.handleId}`, async () => {
      if (attempt === 0) this.freshHandles.add(req.handleId);
      else this.freshHandles.delete(req.handleId);
      if (attempt++ > 0) {
        const held = await this.ipsByHandle(req.handleId);
        if (held.length >= num) return held.slice(0, num);
        if (held.length > 0) return [...held, ...(await this.assignOnce({ ...req, num: num - held.length }))];
      }
      return this.assignOnce({ ...req, num });
    });
  }

  private async assignOnce(req: AssignRequest & { num: number }): Promise<string[]> {
    const got: string[] = [];
    const want = () => req.num - got.length;
    const inPools = (cidr: string) => req.pools.some((p) => cidrInside(cidr, p.cidr));

    // 1. The block that last had room (no listing needed on the hot path), then every block this
    //    host has affinity for, finishing half-done claims.
    const hint = this.hint.get(req.host);
    if (hint !== undefined && inPools(hint)) got.push(...(await this.assignFrom(hint, req, want(), true)));
    if (want() > 0) {
      for (const a of (await this.affinities(req.host)).filter((x) => inPools(x.cidr))) {
        if (want() === 0) break;
        if (a.state === "pending" && !(await this.finishClaim(req.host, a.cidr, a.rev))) continue;
        if (a.state === "pendingDeletion" || a.cidr === hint) continue;
        got.push(...(await this.assignFrom(a.cidr, req, want(), true)));
      }
    }

    // 2. Claim new blocks from the pools while addresses are still needed.
    while (want() > 0) {
      const cidr = await this.claimBlock(req);
      if (!cidr) break;
      got.push(...(await this.assignFrom(cidr, req, want(), true)));
    }

    // 3. Borrow from other hosts' blocks (Calico does this unless strictAffinity is on).
    if (want() > 0 && !this.strictAffinity) {
      for (const kv of await this.ds.listJson<AllocationBlock>(BLOCK_PREFIX)) {
        if (want() === 0) break;
        const b = kv.value;
        if (freeCount(b) === 0 || !inPools(b.cidr) || b.affinity === affinityOf(req.host)) continue;
        const ips = await this.assignFrom(b.cidr, req, want(), false);
        if (ips.length > 0)
          this.log(`borrowed ${ips.join(",")} from ${b.cidr} (${b.affinity}) for ${req.host}`);
        got.push(...ips);
      }
    }

    if (want() > 0) {
      if (got.length > 0) await this.releaseAll(req.handleId);
      throw new IpamError(
        `no free addresses for ${req.handleId} on ${req.host}: pools ${req.pools.map((p) => p.cidr).join(", ")} are full`,
      );
    }
    return got;
  }

  /** Assigns up to `num` addresses from one block: read, modify, CAS (block + handle together), retry on conflict. */
  private async assignFrom(
    cidr: string,
    req: AssignRequest,
    num: number,
    affine: boolean,
  ): Promise<string[]> {
    // A new handle is assumed absent (create-only compare); after a conflict both are re-read.
    let h: { value: IPAMHandle; rev: string } | null | undefined = this.freshHandles.has(req.handleId)
      ? null
      : undefined;
    for (let conflicts = 0; conflicts < this.maxConflicts; conflicts++) {
      const [b, hh] = await Promise.all([
        this.getBlock(cidr),
        h === undefined ? this.getHandle(req.handleId) : h,
      ]);
      h = hh;
      if (!b || b.value.deleted) return [];
      if (affine && b.value.affinity !== affinityOf(req.host)) return [];
      if (freeCount(b.value) === 0) {
        if (this.hint.get(req.host) === cidr) this.hint.delete(req.host);
        return [];
      }
      const { block, ips } = assignFromBlock(b.value, num, req.handleId, req.attrs ?? null);
      const handle: IPAMHandle = h
        ? { ...h.value, block: { ...h.value.block } }
        : { handleID: req.handleId, block: {}, deleted: false };
      handle.block[cidr] = (handle.block[cidr] ?? 0) + ips.length;
      const ops: CasOp[] = [
        { key: blockKey(cidr), value: JSON.stringify(block), rev: b.rev },
        { key: handleKey(req.handleId), value: JSON.stringify(handle), rev: h ? h.rev : "0" },
      ];
      if (await this.ds.cas(ops)) {
        if (affine) this.hint.set(req.host, cidr);
        this.freshHandles.delete(req.handleId);
        return ips;
      }
      h = undefined;
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 + conflicts * 2)));
    }
    throw new IpamError(`gave up on block ${cidr} after ${this.maxConflicts} conflicting writes`);
  }

  /** Claims an unclaimed block for the host; returns its CIDR, or null when the pools have none left. */
  private async claimBlock(req: AssignRequest): Promise<string | null> {
    const existing = new Set(
      (await this.ds.client.getAll().prefix(BLOCK_PREFIX).keys()).map((k) => blockCidrFromKey(k)),
    );
    for (const pool of req.pools) {
      for (const cidr of blockSearchOrder(pool.cidr, pool.blockSize, req.host)) {
        if (existing.has(cidr)) continue;
        const affKey = blockAffinityKey(req.host, cidr);
        const pending: BlockAffinity = { state: "pending", deleted: false };
        if (!(await this.ds.cas([{ key: affKey, value: JSON.stringify(pending), rev: "0" }]))) {
          // A stale affinity of ours for a block that does not exist: finish it.
          const a = await this.ds.get(affKey);
          if (a && (await this.finishClaim(req.host, cidr, a.rev))) return cidr;
          continue;
        }
        const aff = await this.ds.get(affKey);
        if (aff && (await this.finishClaim(req.host, cidr, aff.rev))) {
          this.log(`${req.host} claimed block ${cidr}`);
          return cidr;
        }
      }
    }
    return null;
  }

  /**
   * Second and third steps of a claim: write the block (create-only), then confirm the affinity.
   * When another host created the block first, our pending affinity is removed.
   */
  private async finishClaim(host: string, cidr: string, affRev: string): Promise<boolean> {
    const created = await this.ds.cas([
      { key: blockKey(cidr), value: JSON.stringify(newBlock(cidr, affinityOf(host))), rev: "0" },
    ]);
    if (!created) {
      const b = await this.getBlock(cidr);
      if (!b || b.value.affinity !== affinityOf(host)) {
        await this.ds.cas([{ key: blockAffinityKey(host, cidr), rev: affRev, delete: true }]);
        return false;
      }
    }
    const confirmed: BlockAffinity = { state: "confirmed", deleted: false };
    const ok = await this.ds.cas([
      { key: blockAffinityKey(host, cidr), value: JSON.stringify(confirmed), rev: affRev },
    ]);
    if (!ok) {
      const a = await this.ds.getJson<BlockAffinity>(blockAffinityKey(host, cidr));
      return a?.value.state === "confirmed";
    }
    return true;
  }

  // ---------- release ----------

  /** Releases every address of the handle and deletes the handle. Unknown handle: nothing to do. */
  async releaseByHandle(handleId: string): Promise<string[]> {
    return this.ds.withRetry(`release ${handleId}`, () => this.releaseAll(handleId));
  }

  /** Block by block: the block's ordinals for the handle are freed and the handle updated in one CAS. */
  private async releaseAll(handleId: string): Promise<string[]> {
    const released: string[] = [];
    for (let conflicts = 0; conflicts < this.maxConflicts;) {
      const h = await this.getHandle(handleId);
      if (!h) return released;
      const handle: IPAMHandle = { ...h.value, block: { ...h.value.block } };
      const cidr = Object.keys(handle.block)[0];
      const ops: CasOp[] = [];
      let freed: string[] = [];
      if (cidr !== undefined) {
        delete handle.block[cidr];
        const b = await this.getBlock(cidr);
        if (b) {
          const r = releaseInBlock(b.value, handleId);
          freed = r.released;
          ops.push({ key: blockKey(cidr), value: JSON.stringify(r.block), rev: b.rev });
        }
      }
      if (Object.keys(handle.block).length === 0)
        ops.push({ key: handleKey(handleId), rev: h.rev, delete: true });
      else ops.push({ key: handleKey(handleId), value: JSON.stringify(handle), rev: h.rev });
      if (await this.ds.cas(ops)) released.push(...freed);
      else conflicts++;
    }
    throw new IpamError(`gave up releasing ${handleId} after ${this.maxConflicts} conflicting writes`);
  }
}
