// confd's effects half: the node's bird.conf from a datastore snapshot (planPeers + renderBirdConf),
// written atomically and only when it changed, so BIRD is reconfigured only for real changes.
import { readFile, rename, writeFile } from "node:fs/promises";
import type { DatastoreSnapshot } from "../datastore/snapshot.ts";
import { renderBirdConf } from "./bird-conf.ts";
import { localBgp, planPeers, type PeerPlan } from "./peers.ts";

export interface RenderedBird {
  text: string;
  peers: PeerPlan[];
}

/** The bird.conf this node should run, from one snapshot. */
export function birdConfFor(snap: DatastoreSnapshot, nodeName: string): RenderedBird {
  const me = snap.nodes.find((n) => n.metadata.name === nodeName);
  if (!me) throw new Error(`node ${nodeName} is not registered in the datastore`);
  const local = localBgp(me, snap.bgpConfiguration);
  if (!local) throw new Error(`node ${nodeName} has no bgp.ipv4Address`);
  const peers = planPeers(me, snap.nodes, snap.bgpPeers, snap.bgpConfiguration);
  const blocks = snap.blocks.filter((b) => b.affinity === `host:${nodeName}`).map((b) => b.cidr);
  const text = renderBirdConf({
    local,
    peers,
    pools: snap.pools.map((p) => p.spec),
    blocks,
  });
  return { text, peers };
}

/** Writes `text` to `path` (write + rename) unless it already holds exactly that. True when written. */
export async function writeIfChanged(path: string, text: string): Promise<boolean> {
  try {
    if ((await readFile(path, "utf8")) === text) return false;
  } catch {
    /* absent */
  }
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
  return true;
}
