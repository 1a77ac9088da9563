// Which datastore events can change an agent's reconcile pass. The pass reads a snapshot (nodes, pools,
// the default BGP configuration, peers, and each block's cidr and affinity): an event on any other key
// (a pod's workload endpoint, an IPAM handle or host affinity) cannot change it, and neither can a block
// rewritten for an allocation, which keeps its affinity. In a 50-host lab every pod's CNI ADD wrote four
// such keys, and each write woke all 50 agents for a full pass. Felix filters the same way: its
// calculation graph drops updates that change nothing it programs. Pure: no I/O.
import { blockKey } from "./keys.ts";
import { snapshotKind, type DatastoreSnapshot } from "./snapshot.ts";

/** A block's part in the snapshot: "deleted", or its affinity ("null" when it has none). */
function blockSignature(value: string | null): string {
  if (value === null) return "deleted";
  try {
    const b = JSON.parse(value) as { affinity?: string | null; deleted?: boolean };
    return b.deleted ? "deleted" : String(b.affinity ?? null);
  } catch {
    return `unparsed:${value}`; // not ours to judge: a change of text is a change
  }
}

export class SnapshotEventFilter {
  /** Each block's signature as last seen; a block not seen yet is relevant. */
  private readonly blocks = new Map<string, string>();
  /** Events dropped so far (for status.json and tests). */
  ignored = 0;

  /**
   * Learns the blocks of a snapshot the agent has read: an event that only repeats what it already
   * holds (a pod allocated in a block it knows) then changes nothing.
   */
  learn(snapshot: Pick<DatastoreSnapshot, "blocks">): void {
    for (const b of snapshot.blocks) this.blocks.set(blockKey(b.cidr), String(b.affinity ?? null));
  }

  /** Whether the event (value null: a delete) can change the snapshot; remembers blocks' affinities. */
  relevant(key: string, value: string | null): boolean {
    const kind = snapshotKind(key);
    if (kind === null) {
      this.ignored++;
      return false;
    }
    if (kind !== "block") return true;
    const sig = blockSignature(value);
    if (this.blocks.get(key) === sig) {
      this.ignored++;
      return false;
    }
    if (value === null) this.blocks.delete(key);
    else this.blocks.set(key, sig);
    return true;
  }
}
