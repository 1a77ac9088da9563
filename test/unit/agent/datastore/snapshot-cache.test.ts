import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SnapshotCache, snapshotFromKvs } from "../../../../src/agent/datastore/snapshot-cache.ts";
import { snapshotKind } from "../../../../src/agent/datastore/snapshot.ts";
import { blockAffinityKey, blockKey, handleKey, resourceKey } from "../../../../src/agent/datastore/keys.ts";

const block = (affinity: string | null, allocations: (number | null)[], deleted = false) =>
  JSON.stringify({ cidr: "10.244.1.0/26", affinity, allocations, unallocated: [], attributes: [], deleted });
const BLOCK = blockKey("10.244.1.0/26");
const WEP = resourceKey("workloadendpoints", "worker--1-k8s-pod--a-eth0", "default");

describe("the snapshot an agent's pass reads, and its watch-fed copy", () => {
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

  const NODE = resourceKey("nodes", "worker-1");
  const node = (name: string, ip: string) =>
    JSON.stringify({ kind: "Node", metadata: { name }, spec: { bgp: { ipv4Address: `${ip}/24` } } });
  /** A cache loaded from an empty full read at `rev`. */
  const loaded = (rev = "10") => {
    const c = new SnapshotCache();
    c.load({ revision: rev, kvs: [] });
    return c;
  };

  test("a pod's ADD (endpoint, handle, allocation in a claimed block) wakes nobody; a claim does", () => {
    const c = loaded();
    // worker-1 claims the block: relevant (a new route for every other node).
    assert.equal(c.apply(blockAffinityKey("worker-1", "10.244.1.0/26"), "{}", "11"), false);
    assert.equal(c.apply(BLOCK, block("host:worker-1", [null, null]), "12"), true);
    // Pods are allocated from it: the block is rewritten with the same affinity.
    assert.equal(c.apply(handleKey("k8s-pod-network.abc"), "{}", "13"), false);
    assert.equal(c.apply(BLOCK, block("host:worker-1", [0, null]), "14"), false);
    assert.equal(c.apply(WEP, "{}", "15"), false);
    assert.equal(c.apply(BLOCK, block("host:worker-1", [0, 1]), "16"), false);
    assert.equal(c.ignored, 5);
    assert.deepEqual(c.snapshot().blocks, [{ cidr: "10.244.1.0/26", affinity: "host:worker-1" }]);
    // The affinity is released, the block deleted, then claimed again: each one a change.
    assert.equal(c.apply(BLOCK, block(null, [0, 1]), "17"), true);
    assert.deepEqual(c.snapshot().blocks, [{ cidr: "10.244.1.0/26", affinity: null }]);
    assert.equal(c.apply(BLOCK, block(null, [], true), "18"), true);
    assert.deepEqual(c.snapshot().blocks, []);
    assert.equal(c.apply(BLOCK, null, "19"), false, "a delete after `deleted: true`: nothing new");
    assert.equal(c.apply(BLOCK, block("host:worker-2", []), "20"), true);
    assert.equal(c.apply(WEP, null, "21"), false, "an endpoint's delete");
    assert.equal(c.snapshot().revision, "20", "the newest revision the copy took");
  });

  test("a block from the full read: an allocation in it is no news, a new affinity is", () => {
    const c = new SnapshotCache();
    c.load({ revision: "10", kvs: [{ key: BLOCK, value: block("host:worker-1", []), modRevision: "7" }] });
    assert.equal(c.apply(BLOCK, block("host:worker-1", [0]), "11"), false);
    assert.equal(c.apply(BLOCK, block("host:worker-2", []), "12"), true);
  });

  test("nodes, pools, peers and the BGP configuration: every change of their text wakes the agent", () => {
    const c = loaded();
    let rev = 11;
    for (const v of ["{}", '{"a":1}']) {
      assert.equal(c.apply(NODE, v, String(rev++)), true);
      assert.equal(c.apply(resourceKey("ippools", "p"), v, String(rev++)), true);
      assert.equal(c.apply(resourceKey("bgppeers", "rr"), v, String(rev++)), true);
      assert.equal(c.apply(resourceKey("bgpconfigurations", "default"), v, String(rev++)), true);
    }
    assert.equal(c.apply(NODE, '{"a":1}', String(rev++)), false, "rewritten with the same text");
    assert.equal(c.apply(resourceKey("bgppeers", "rr"), null, String(rev++)), true);
  });

  test("an event the copy already holds (replayed, or older than the full read) changes nothing", () => {
    const c = new SnapshotCache();
    c.load({
      revision: "10",
      kvs: [{ key: NODE, value: node("worker-1", "192.168.19.166"), modRevision: "9" }],
    });
    // The watch started before the read: it delivers what the read already returned, and older history.
    assert.equal(c.apply(NODE, node("worker-1", "192.168.19.166"), "9"), false);
    assert.equal(
      c.apply(NODE, node("worker-1", "192.168.19.1"), "5"),
      false,
      "older than what the copy holds",
    );
    assert.equal(
      c.apply(resourceKey("nodes", "gone"), node("gone", "192.168.19.9"), "8"),
      false,
      "created and deleted before the read",
    );
    assert.deepEqual(
      c.snapshot().nodes.map((n) => n.metadata.name),
      ["worker-1"],
    );
    // A newer change is taken; replaying it again is not.
    assert.equal(c.apply(NODE, node("worker-1", "192.168.19.170"), "11"), true);
    assert.equal(c.apply(NODE, node("worker-1", "192.168.19.170"), "11"), false);
    assert.equal(c.snapshot().nodes[0]!.spec.bgp!.ipv4Address, "192.168.19.170/24");
  });

  test("a full read keeps what arrived while it was under way, deletes included", () => {
    const c = loaded("10");
    const W2 = resourceKey("nodes", "worker-2");
    assert.equal(c.apply(NODE, node("worker-1", "192.168.19.166"), "11"), true);
    assert.equal(c.apply(W2, node("worker-2", "192.168.19.167"), "12"), true);
    // The resync's read was taken at revision 12; meanwhile worker-1 moved (13) and worker-2 left (14).
    assert.equal(c.apply(NODE, node("worker-1", "192.168.19.171"), "13"), true);
    assert.equal(c.apply(W2, null, "14"), true);
    const snap = c.load({
      revision: "12",
      kvs: [
        { key: NODE, value: node("worker-1", "192.168.19.166"), modRevision: "11" },
        { key: W2, value: node("worker-2", "192.168.19.167"), modRevision: "12" },
      ],
    });
    assert.deepEqual(
      snap.nodes.map((n) => [n.metadata.name, n.spec.bgp!.ipv4Address]),
      [["worker-1", "192.168.19.171/24"]],
    );
    assert.equal(snap.revision, "14");
  });

  test("events before the first full read are kept for it; until then there is no snapshot", () => {
    const c = new SnapshotCache();
    assert.equal(c.current, false);
    assert.throws(() => c.snapshot(), /no full read yet/);
    assert.equal(c.apply(NODE, node("worker-1", "192.168.19.166"), "21"), true);
    const snap = c.load({ revision: "20", kvs: [] });
    assert.deepEqual(
      snap.nodes.map((n) => n.metadata.name),
      ["worker-1"],
    );
    // A reconnect: events may have been missed, so the copy is not current until the next full read.
    c.invalidate();
    assert.equal(c.current, false);
    c.load({ revision: "30", kvs: [] });
    assert.deepEqual(c.snapshot().nodes, [], "what the read at 30 holds: worker-1 (at 21) is gone");
  });

  test("a pass gets its own lists: changing them leaves the copy as it was", () => {
    const c = new SnapshotCache();
    const snap = c.load({
      revision: "5",
      kvs: [{ key: BLOCK, value: block("host:worker-1", []), modRevision: "5" }],
    });
    snap.blocks.pop();
    assert.equal(c.snapshot().blocks.length, 1);
  });

  test("a value that is not JSON fails the snapshot, naming the key, until it is replaced", () => {
    const c = loaded();
    assert.equal(c.apply(BLOCK, "{not json", "11"), true);
    assert.equal(c.apply(BLOCK, "{not json", "12"), false);
    assert.throws(() => c.snapshot(), new RegExp(`${BLOCK}: value is not JSON`));
    assert.equal(c.apply(BLOCK, block("host:worker-1", []), "13"), true);
    assert.equal(c.snapshot().blocks.length, 1);
  });
});
