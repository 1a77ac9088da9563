// One consistent read of everything the routing loop needs: nodes, pools, the default BGP configuration,
// BGP peers and every IPAM block (cidr + affinity), all read at one etcd revision.
import type { Datastore } from "./etcd.ts";
import {
  BLOCK_PREFIX,
  resourceKey,
  resourcePrefix,
  type AllocationBlock,
  type CalicoNode,
  type IPPool,
} from "./keys.ts";
import type { BGPConfiguration, BGPPeer } from "../confd/types.ts";

export interface DatastoreSnapshot {
  /** etcd revision the snapshot was read at. */
  revision: string;
  nodes: CalicoNode[];
  pools: IPPool[];
  bgpConfiguration?: BGPConfiguration;
  bgpPeers: BGPPeer[];
  blocks: Pick<AllocationBlock, "cidr" | "affinity">[];
}

const byName = <T extends { metadata: { name: string } }>(a: T, b: T) =>
  a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;

export type SnapshotKind = "node" | "pool" | "peer" | "bgpConfiguration" | "block";

const DEFAULT_BGP_CONFIGURATION = resourceKey("bgpconfigurations", "default");

/**
 * What the snapshot reads: the prefixes (and the one key) readSnapshot asks etcd for, and what each adds.
 * snapshotKind classifies watch events by the same table, so the two cannot drift apart.
 */
const SNAPSHOT_PREFIXES: readonly { prefix: string; kind: SnapshotKind }[] = [
  { prefix: resourcePrefix("nodes"), kind: "node" },
  { prefix: resourcePrefix("ippools"), kind: "pool" },
  { prefix: resourcePrefix("bgppeers"), kind: "peer" },
  { prefix: BLOCK_PREFIX, kind: "block" },
];

/**
 * What a datastore key contributes to the snapshot, or null when it contributes nothing (workload
 * endpoints, IPAM handles and host affinities, profiles, Felix configuration, …). Pure.
 */
export function snapshotKind(key: string): SnapshotKind | null {
  if (key === DEFAULT_BGP_CONFIGURATION) return "bgpConfiguration";
  return SNAPSHOT_PREFIXES.find((p) => key.startsWith(p.prefix))?.kind ?? null;
}

/**
 * Reads the snapshot: a range read per prefix and one get, all at the revision of the first, so the
 * snapshot is one point in time. Reading /calico/ whole also read every workload endpoint and handle:
 * in a 50-host lab with 200 pods, most of the bytes of every pass of every agent.
 */
export async function readSnapshot(ds: Datastore): Promise<DatastoreSnapshot> {
  const [first, ...rest] = SNAPSHOT_PREFIXES.map((p) => p.prefix);
  const head = await ds.client.getAll().prefix(first!).exec();
  const revision = String(head.header.revision);
  const others = await Promise.all([
    ...rest.map((p) => ds.client.getAll().prefix(p).revision(revision).exec()),
    ds.client.get(DEFAULT_BGP_CONFIGURATION).revision(revision).exec(),
  ]);
  return snapshotFromKvs(
    [head, ...others].flatMap((r) =>
      r.kvs.map((kv) => ({ key: kv.key.toString(), value: kv.value.toString() })),
    ),
    revision,
  );
}

/** The snapshot from key/values under /calico/ (from the client, or from `etcdctl get -w json`). Pure. */
export function snapshotFromKvs(
  kvs: readonly { key: string; value: string }[],
  revision = "0",
): DatastoreSnapshot {
  const snap: DatastoreSnapshot = { revision, nodes: [], pools: [], bgpPeers: [], blocks: [] };
  for (const { key, value } of kvs) {
    const kind = snapshotKind(key);
    if (kind === null) continue;
    const parse = <T>() => JSON.parse(value) as T;
    if (kind === "node") snap.nodes.push(parse<CalicoNode>());
    else if (kind === "pool") snap.pools.push(parse<IPPool>());
    else if (kind === "peer") snap.bgpPeers.push(parse<BGPPeer>());
    else if (kind === "bgpConfiguration") snap.bgpConfiguration = parse<BGPConfiguration>();
    else {
      const b = parse<AllocationBlock>();
      if (!b.deleted) snap.blocks.push({ cidr: b.cidr, affinity: b.affinity });
    }
  }
  snap.nodes.sort(byName);
  snap.pools.sort(byName);
  snap.bgpPeers.sort(byName);
  snap.blocks.sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0));
  return snap;
}
