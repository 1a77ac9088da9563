// This node's workload endpoints, as Felix keeps them from its datastore feed: loaded by a full read of
// the workload endpoint prefix (with the snapshot, at its revision), kept current by the agent's watch.
// Only this node's endpoints are kept and only their changes wake a pass: another node's pods cost an
// agent nothing but the bytes of the full read. Same ordering rule as the snapshot cache: an event at or
// below the revision the copy holds for its key (or of the full read) is already in it. Pure: no I/O.
import { resourcePrefix, type WorkloadEndpoint } from "../datastore/keys.ts";

export const WORKLOAD_ENDPOINT_PREFIX = resourcePrefix("workloadendpoints");

interface Entry {
  modRevision: bigint;
  /** null: deleted (a tombstone for the ordering rule). */
  endpoint: WorkloadEndpoint | null;
  sig: string | null;
}

function parse(value: string | null): WorkloadEndpoint | null {
  if (value === null) return null;
  try {
    const e = JSON.parse(value) as WorkloadEndpoint;
    return e && typeof e === "object" && e.spec && typeof e.spec.node === "string" ? e : null;
  } catch {
    return null;
  }
}

export class LocalEndpoints {
  private entries = new Map<string, Entry>();
  private readAt: bigint | null = null;

  constructor(readonly node: string) {}

  /** Whether the key is a workload endpoint's (handled here, not by the snapshot cache). */
  static handles(key: string): boolean {
    return key.startsWith(WORKLOAD_ENDPOINT_PREFIX);
  }

  /** Replaces the copy with a full read at `revision`, keeping what arrived after it. */
  load(revision: string, kvs: readonly { key: string; value: string; modRevision: string }[]): void {
    const at = BigInt(revision);
    const next = new Map<string, Entry>();
    for (const kv of kvs) {
      const e = parse(kv.value);
      if (e?.spec.node !== this.node) continue;
      next.set(kv.key, { modRevision: BigInt(kv.modRevision), endpoint: e, sig: kv.value });
    }
    for (const [key, e] of this.entries) if (e.modRevision > at) next.set(key, e);
    this.entries = next;
    this.readAt = at;
  }

  /**
   * A watch event (value null: a delete). True when this node's endpoints changed: one of its endpoints
   * was added, rewritten or deleted (or moved to another node).
   */
  apply(key: string, value: string | null, modRevision: string): boolean {
    const rev = BigInt(modRevision);
    const held = this.entries.get(key);
    const seen =
      held && this.readAt !== null && held.modRevision < this.readAt ? this.readAt : held?.modRevision;
    if (rev <= (seen ?? this.readAt ?? -1n)) return false;
    const e = parse(value);
    const mine = e?.spec.node === this.node;
    if (!mine && !held?.endpoint) {
      // Not ours and never was: remember nothing but the revision of a key we held as a tombstone.
      if (held) held.modRevision = rev;
      return false;
    }
    const sig = mine ? value : null;
    this.entries.set(key, { modRevision: rev, endpoint: mine ? e : null, sig });
    return (held?.sig ?? null) !== sig;
  }

  /** This node's endpoints, by key. */
  list(): WorkloadEndpoint[] {
    return [...this.entries.entries()]
      .filter(([, e]) => e.endpoint !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, e]) => e.endpoint!);
  }
}
