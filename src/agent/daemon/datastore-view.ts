// What the daemon's passes read: the snapshot of /calico/ the watch keeps (a pass woken by an event reads
// no etcd), this node's workload endpoints, and full reads of both at one revision (startup, resyncs,
// reconnects, tunnel address changes). Events that cannot change a pass (other nodes' endpoints,
// allocations in a block) are dropped here.
import type { Datastore } from "../datastore/etcd.ts";
import { SnapshotCache } from "../datastore/snapshot-cache.ts";
import type { DatastoreSnapshot } from "../datastore/snapshot.ts";
import { readSnapshotKvs } from "../datastore/snapshot-read.ts";
import { LocalEndpoints, WORKLOAD_ENDPOINT_PREFIX } from "../felix/endpoints.ts";

export class DatastoreView {
  private readonly cache = new SnapshotCache();
  /** This node's workload endpoints (their /32 routes and neighbours are the agent's to keep). */
  readonly endpoints: LocalEndpoints;
  /** Full reads of the snapshot (status.json). */
  reads = 0;

  constructor(
    node: string,
    /** An event was dropped by the snapshot cache (the counters changed). */
    private readonly onDropped: () => void,
  ) {
    this.endpoints = new LocalEndpoints(node);
  }

  /** Events dropped because they cannot change a pass. */
  get ignored(): number {
    return this.cache.ignored;
  }

  /** The watch's filter: takes the event in, and says whether a pass must look at it. */
  relevant(key: string, value: string | null, modRevision: string): boolean {
    if (LocalEndpoints.handles(key)) {
      const mine = this.endpoints.apply(key, value, modRevision);
      if (!mine) this.cache.ignored++;
      return mine;
    }
    const relevant = this.cache.apply(key, value, modRevision);
    if (!relevant) this.onDropped();
    return relevant;
  }

  /** The watch reconnected: what it kept may have missed events. */
  invalidate(): void {
    this.cache.invalidate();
  }

  /** The snapshot for a pass: read in full when asked (or nothing is held), else the copy held. */
  snapshot(ds: Datastore, reread: boolean): Promise<DatastoreSnapshot> {
    return reread || !this.cache.current ? this.read(ds) : Promise.resolve(this.cache.snapshot());
  }

  /**
   * Reads the snapshot in full into the cache (which keeps events that arrive meanwhile), and this node's
   * workload endpoints at the same revision.
   */
  async read(ds: Datastore): Promise<DatastoreSnapshot> {
    const read = await ds.withRetry("snapshot", () => readSnapshotKvs(ds), 10_000);
    const weps = await ds.withRetry(
      "workload endpoints",
      () => ds.client.getAll().prefix(WORKLOAD_ENDPOINT_PREFIX).revision(read.revision).exec(),
      10_000,
    );
    this.endpoints.load(
      read.revision,
      weps.kvs.map((kv) => ({
        key: kv.key.toString(),
        value: kv.value.toString(),
        modRevision: kv.mod_revision,
      })),
    );
    this.reads++;
    return this.cache.load(read);
  }
}
