// The full read of the snapshot: a range read per prefix and one get, all at the revision of the first,
// so the snapshot is one point in time. Reading /calico/ whole also read every workload endpoint and
// handle: in a 50-host lab with 200 pods, most of the bytes of every read.
import type { Datastore } from "./etcd.ts";
import { DEFAULT_BGP_CONFIGURATION, SNAPSHOT_PREFIXES, type DatastoreSnapshot } from "./snapshot.ts";
import { snapshotFromRead, type SnapshotRead } from "./snapshot-cache.ts";

/** Every key the snapshot reads, with the revision that last changed it, at one revision. */
export async function readSnapshotKvs(ds: Datastore): Promise<SnapshotRead> {
  const [first, ...rest] = SNAPSHOT_PREFIXES.map((p) => p.prefix);
  const head = await ds.client.getAll().prefix(first!).exec();
  const revision = String(head.header.revision);
  const others = await Promise.all([
    ...rest.map((p) => ds.client.getAll().prefix(p).revision(revision).exec()),
    ds.client.get(DEFAULT_BGP_CONFIGURATION).revision(revision).exec(),
  ]);
  return {
    revision,
    kvs: [head, ...others].flatMap((r) =>
      r.kvs.map((kv) => ({
        key: kv.key.toString(),
        value: kv.value.toString(),
        modRevision: kv.mod_revision,
      })),
    ),
  };
}

/** The snapshot as of now. */
export async function readSnapshot(ds: Datastore): Promise<DatastoreSnapshot> {
  return snapshotFromRead(await readSnapshotKvs(ds));
}
