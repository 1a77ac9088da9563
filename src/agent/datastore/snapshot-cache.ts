// The agent's copy of what a reconcile pass reads (nodes, pools, peers, the default BGP configuration,
// each block's cidr and affinity), kept current by the datastore watch, as confd's and Felix's caches
// are. A pass woken by an event reads no etcd: in a 50-host lab, ~100 node registrations and block
// claims woke every agent, and each pass's range reads cost ~9 ms of client CPU (and etcd's) where
// planning from memory costs well under one. A full read (startup, the periodic resync, a reconnect)
// replaces the copy, so a lost event lives no longer than one resync.
//
// Order: etcd revisions are one total order. An event at or below the revision of what the copy holds
// for its key (or of the full read, for a key the read did not return) is already in it; a newer one
// replaces it. A full read keeps entries newer than itself: events that arrived while it was under way.
// Deletes stay as tombstones for that comparison.
//
// It also says which events matter: one that changes no part a pass reads (a pod's workload endpoint, an
// IPAM handle, an allocation in a block whose affinity stays) wakes nobody. Pure: no I/O.
import { snapshotKind, type DatastoreSnapshot, type SnapshotKind } from "./snapshot.ts";
import type { AllocationBlock, CalicoNode, IPPool } from "./keys.ts";
import type { BGPConfiguration, BGPPeer } from "../confd/types.ts";

/** One key of a full read: its value and the revision that last changed it. */
export interface SnapshotKv {
  key: string;
  value: string;
  modRevision: string;
}

/** Everything a full read returned, at one revision. */
export interface SnapshotRead {
  revision: string;
  kvs: readonly SnapshotKv[];
}

interface Entry {
  modRevision: bigint;
  kind: SnapshotKind;
  /** What a pass sees of the value, as text to compare; null: nothing (deleted, or a deleted block). */
  sig: string | null;
  /** The parsed value when sig is not null; for blocks only cidr and affinity. */
  value?: unknown;
  /** The value was not JSON: the snapshot cannot be built until it is replaced. */
  unparsed?: boolean;
}

function entryOf(kind: SnapshotKind, value: string | null, modRevision: bigint): Entry {
  if (value === null) return { modRevision, kind, sig: null };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { modRevision, kind, sig: `unparsed:${value}`, unparsed: true };
  }
  if (kind !== "block") return { modRevision, kind, sig: value, value: parsed };
  // A block is rewritten for every allocation; a pass reads only its cidr and affinity.
  const b = parsed as Partial<AllocationBlock>;
  if (b.deleted) return { modRevision, kind, sig: null };
  const block = { cidr: b.cidr!, affinity: b.affinity ?? null };
  return { modRevision, kind, sig: JSON.stringify(block), value: block };
}

const byName = <T extends { metadata: { name: string } }>(a: T, b: T) =>
  a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;

export class SnapshotCache {
  private entries = new Map<string, Entry>();
  /** The revision of the last full read; null: none yet, or invalidated (a reconnect). */
  private readAt: bigint | null = null;
  /** The newest revision the copy has seen. */
  private revision = 0n;
  private built: DatastoreSnapshot | null = null;
  /** Events that changed nothing a pass reads (for status.json and tests). */
  ignored = 0;

  /** Whether snapshot() can answer without a full read. */
  get current(): boolean {
    return this.readAt !== null;
  }

  /** Forgets that the copy is complete (events may have been missed): the next pass reads in full. */
  invalidate(): void {
    this.readAt = null;
  }

  /** Replaces the copy with a full read (keeping what arrived after it) and returns the snapshot. */
  load(read: SnapshotRead): DatastoreSnapshot {
    const at = BigInt(read.revision);
    const next = new Map<string, Entry>();
    for (const kv of read.kvs) {
      const kind = snapshotKind(kv.key);
      if (kind !== null) next.set(kv.key, entryOf(kind, kv.value, BigInt(kv.modRevision)));
    }
    for (const [key, e] of this.entries) if (e.modRevision > at) next.set(key, e);
    this.entries = next;
    this.readAt = at;
    if (at > this.revision) this.revision = at;
    this.built = null;
    return this.snapshot();
  }

  /**
   * Applies a watch event (value null: a delete) at its revision. True when it changes what a pass
   * reads; false for keys no pass reads, for what the copy already holds, and for rewrites that keep
   * every part a pass reads (an allocation in a block).
   */
  apply(key: string, value: string | null, modRevision: string): boolean {
    const kind = snapshotKind(key);
    if (kind === null) {
      this.ignored++;
      return false;
    }
    const rev = BigInt(modRevision);
    const held = this.entries.get(key);
    if (rev <= (held?.modRevision ?? this.readAt ?? -1n)) {
      this.ignored++;
      return false;
    }
    const e = entryOf(kind, value, rev);
    this.entries.set(key, e);
    if (rev > this.revision) this.revision = rev;
    if ((held?.sig ?? null) === e.sig) {
      this.ignored++;
      return false;
    }
    this.built = null;
    return true;
  }

  /** A pass gets its own lists (the values themselves are shared: passes only read them). */
  private copy(s: DatastoreSnapshot): DatastoreSnapshot {
    return {
      ...s,
      revision: String(this.revision),
      nodes: [...s.nodes],
      pools: [...s.pools],
      bgpPeers: [...s.bgpPeers],
      blocks: [...s.blocks],
    };
  }

  /** The snapshot the copy holds (sorted as a full read's). Throws for a value that is not JSON. */
  snapshot(): DatastoreSnapshot {
    if (this.readAt === null) throw new Error("snapshot cache: no full read yet");
    if (this.built) return this.copy(this.built);
    const snap: DatastoreSnapshot = {
      revision: String(this.revision),
      nodes: [],
      pools: [],
      bgpPeers: [],
      blocks: [],
    };
    for (const [key, e] of this.entries) {
      if (e.unparsed) throw new Error(`${key}: value is not JSON`);
      if (e.sig === null) continue;
      if (e.kind === "node") snap.nodes.push(e.value as CalicoNode);
      else if (e.kind === "pool") snap.pools.push(e.value as IPPool);
      else if (e.kind === "peer") snap.bgpPeers.push(e.value as BGPPeer);
      else if (e.kind === "bgpConfiguration") snap.bgpConfiguration = e.value as BGPConfiguration;
      else snap.blocks.push(e.value as Pick<AllocationBlock, "cidr" | "affinity">);
    }
    snap.nodes.sort(byName);
    snap.pools.sort(byName);
    snap.bgpPeers.sort(byName);
    snap.blocks.sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0));
    this.built = snap;
    return this.copy(snap);
  }
}

/** The snapshot of one full read. */
export function snapshotFromRead(read: SnapshotRead): DatastoreSnapshot {
  return new SnapshotCache().load(read);
}

/** The snapshot from key/values under /calico/ (from `etcdctl get -w json`, or a test's list). Pure. */
export function snapshotFromKvs(
  kvs: readonly { key: string; value: string }[],
  revision = "0",
): DatastoreSnapshot {
  return snapshotFromRead({ revision, kvs: kvs.map((kv) => ({ ...kv, modRevision: revision })) });
}
