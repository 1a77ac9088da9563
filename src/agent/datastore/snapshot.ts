// What the routing loop reads from the datastore: nodes, pools, the default BGP configuration, BGP peers
// and every IPAM block (cidr + affinity), as of one etcd revision; which keys hold them. Pure: the read
// is snapshot-read.ts, the agent's copy kept by the watch snapshot-cache.ts.
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

export type SnapshotKind = "node" | "pool" | "peer" | "bgpConfiguration" | "block";

export const DEFAULT_BGP_CONFIGURATION = resourceKey("bgpconfigurations", "default");

/**
 * What the snapshot reads: the prefixes (and the one key) a full read asks etcd for, and what each adds.
 * snapshotKind classifies watch events by the same table, so the two cannot drift apart.
 */
export const SNAPSHOT_PREFIXES: readonly { prefix: string; kind: SnapshotKind }[] = [
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
