import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SnapshotEventFilter } from "../../../src/agent/datastore/relevance.ts";
import { snapshotFromKvs, snapshotKind } from "../../../src/agent/datastore/snapshot.ts";
import { blockAffinityKey, blockKey, handleKey, resourceKey } from "../../../src/agent/datastore/keys.ts";

const block = (affinity: string | null, allocations: (number | null)[], deleted = false) =>
  JSON.stringify({ cidr: "10.244.1.0/26", affinity, allocations, unallocated: [], attributes: [], deleted });
const BLOCK = blockKey("10.244.1.0/26");
const WEP = resourceKey("workloadendpoints", "worker--1-k8s-pod--a-eth0", "default");

describe("datastore events an agent's pass can see", () => {
  test("snapshotKind names what each key adds to the snapshot, null for the rest", () => {
    assert.equal(snapshotKind(resourceKey("nodes", "worker-1")), "node");
    assert.equal(snapshotKind(resourceKey("ippools", "default-ipv4-ippool")), "pool");
    assert.equal(snapshotKind(resourceKey("bgppeers", "rr")), "peer");
    assert.equal(snapshotKind(resourceKey("bgpconfigurations", "default")), "bgpConfiguration");
    assert.equal(snapshotKind(BLOCK), "block");
    assert.equal(snapshotKind(resourceKey("bgpconfigurations", "node.worker-1")), null);
    assert.equal(snapshotKind(resourceKey("felixconfigurations", "default")), null);
    assert.equal(snapshotKind(WEP), null);
    assert.equal(snapshotKind(handleKey("k8s-pod-network.abc")), null);
    assert.equal(snapshotKind(blockAffinityKey("worker-1", "10.244.1.0/26")), null);
  });

  test("a key snapshotKind ignores is not read into the snapshot either", () => {
    const kvs = [
      { key: WEP, value: "{}" },
      { key: handleKey("k8s-pod-network.abc"), value: "{}" },
      { key: blockAffinityKey("worker-1", "10.244.1.0/26"), value: "{}" },
      { key: BLOCK, value: block("host:worker-1", [0]) },
    ];
    const snap = snapshotFromKvs(kvs);
    assert.deepEqual(snap.blocks, [{ cidr: "10.244.1.0/26", affinity: "host:worker-1" }]);
    assert.deepEqual([snap.nodes, snap.pools, snap.bgpPeers], [[], [], []]);
  });

  test("a pod's ADD (endpoint, handle, allocation in a claimed block) wakes nobody; a claim does", () => {
    const f = new SnapshotEventFilter();
    // worker-1 claims the block: relevant (a new route for every other node).
    assert.equal(f.relevant(blockAffinityKey("worker-1", "10.244.1.0/26"), "{}"), false);
    assert.equal(f.relevant(BLOCK, block("host:worker-1", [null, null])), true);
    // Pods are allocated from it: the block is rewritten with the same affinity.
    assert.equal(f.relevant(handleKey("k8s-pod-network.abc"), "{}"), false);
    assert.equal(f.relevant(BLOCK, block("host:worker-1", [0, null])), false);
    assert.equal(f.relevant(WEP, "{}"), false);
    assert.equal(f.relevant(BLOCK, block("host:worker-1", [0, 1])), false);
    assert.equal(f.ignored, 5);
    // The affinity is released, the block deleted, then claimed again: each one a change.
    assert.equal(f.relevant(BLOCK, block(null, [0, 1])), true);
    assert.equal(f.relevant(BLOCK, block(null, [], true)), true);
    assert.equal(f.relevant(BLOCK, null), false, "a delete after `deleted: true`: nothing new");
    assert.equal(f.relevant(BLOCK, block("host:worker-2", [])), true);
    assert.equal(f.relevant(WEP, null), false, "an endpoint's delete");
  });

  test("a block learnt from a snapshot: an allocation in it is no news, a new affinity is", () => {
    const f = new SnapshotEventFilter();
    f.learn({ blocks: [{ cidr: "10.244.1.0/26", affinity: "host:worker-1" }] });
    assert.equal(f.relevant(BLOCK, block("host:worker-1", [0])), false);
    assert.equal(f.relevant(BLOCK, block("host:worker-2", [])), true);
  });

  test("nodes, pools, peers and the BGP configuration always wake the agent", () => {
    const f = new SnapshotEventFilter();
    for (let i = 0; i < 2; i++) {
      assert.equal(f.relevant(resourceKey("nodes", "worker-1"), "{}"), true);
      assert.equal(f.relevant(resourceKey("ippools", "p"), "{}"), true);
      assert.equal(f.relevant(resourceKey("bgppeers", "rr"), null), true);
      assert.equal(f.relevant(resourceKey("bgpconfigurations", "default"), "{}"), true);
    }
    assert.equal(f.ignored, 0);
  });

  test("a block whose text cannot be parsed counts as changed when its text changes", () => {
    const f = new SnapshotEventFilter();
    assert.equal(f.relevant(BLOCK, "{not json"), true);
    assert.equal(f.relevant(BLOCK, "{not json"), false);
    assert.equal(f.relevant(BLOCK, "{still not"), true);
  });
});
