// The pod-pair sample for big labs (src/verify/pod-sample.ts): every ordered node pair once, every pod used.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { podPairs, type RunningPod } from "../../../src/verify/expectations.ts";
import {
  podPairModeFor,
  ringOffsets,
  sampledPodPairs,
  selectNodePodPairs,
  selectPodPairs,
} from "../../../src/verify/pod-sample.ts";

function lab(nodes: number, perNode: number): RunningPod[] {
  const pods: RunningPod[] = [];
  for (let n = 1; n <= nodes; n++)
    for (let k = 1; k <= perNode; k++)
      pods.push({ name: `p-h${n}-${k}`, host: `h${n}`, ip: `10.244.${n}.${k}`, server: false });
  return pods;
}

describe("pod pairs: cross-node sample", () => {
  it("50 nodes x 4 pods: each node to the nodes 1, 2, 4, 8, 16, 32 further round the ring, every pod used", () => {
    const pods = lab(50, 4);
    const pairs = sampledPodPairs(pods);
    const cross = pairs.filter((p) => p.crossNode);
    assert.deepEqual(ringOffsets(50), [1, 2, 4, 8, 16, 32]);
    assert.equal(cross.length, 50 * 6);
    assert.equal(pairs.length - cross.length, 200);
    assert.equal(podPairs(pods).length, 39_800);
    const nodePairs = new Set(cross.map((p) => `${p.from.host}>${p.to.host}`));
    assert.equal(nodePairs.size, 50 * 6);
    for (const p of pairs) {
      assert.notEqual(p.from, p.to);
      assert.equal(p.crossNode, p.from.host !== p.to.host);
    }
    assert.deepEqual(new Set(cross.map((p) => p.from.name)), new Set(pods.map((p) => p.name)));
    assert.deepEqual(new Set(cross.map((p) => p.to.name)), new Set(pods.map((p) => p.name)));
  });
  it("up to 12 nodes the sample still covers every ordered node pair", () => {
    const cross = sampledPodPairs(lab(12, 2)).filter((p) => p.crossNode);
    assert.equal(new Set(cross.map((p) => `${p.from.host}>${p.to.host}`)).size, 12 * 11);
    assert.equal(podPairModeFor(12), "all");
    assert.equal(podPairModeFor(13), "cross-node-sample");
  });
  it("node to pod: every host to its own pods and to one pod per sampled node", () => {
    const pods = lab(50, 4);
    const hosts = Array.from({ length: 50 }, (_, i) => ({ name: `h${i + 1}` }));
    const pairs = selectNodePodPairs(hosts, pods, "cross-node-sample");
    assert.equal(pairs.length, 200 + 50 * 6);
    assert.equal(selectNodePodPairs(hosts.slice(0, 3), lab(3, 2), "all").length, 3 * 6);
  });
  it("every pod sends and receives across nodes", () => {
    const pods = lab(5, 3);
    const cross = sampledPodPairs(pods).filter((p) => p.crossNode);
    assert.deepEqual(new Set(cross.map((p) => p.from.name)), new Set(pods.map((p) => p.name)));
    assert.deepEqual(new Set(cross.map((p) => p.to.name)), new Set(pods.map((p) => p.name)));
  });
  it("a node with one pod has no same-node pair; uneven nodes work", () => {
    const pods = [
      ...lab(2, 1),
      { name: "x", host: "h3", ip: "10.244.3.1", server: true },
      { name: "y", host: "h3", ip: "10.244.3.2", server: false },
    ];
    const pairs = sampledPodPairs(pods);
    assert.deepEqual(
      pairs.filter((p) => !p.crossNode).map((p) => `${p.from.name}>${p.to.name}`),
      ["x>y", "y>x"],
    );
    assert.equal(pairs.filter((p) => p.crossNode).length, 6);
  });
  it("selectPodPairs: all by default, the sample on request", () => {
    const pods = lab(3, 2);
    assert.equal(selectPodPairs(pods).length, 30);
    assert.equal(selectPodPairs(pods, "all").length, 30);
    assert.equal(selectPodPairs(pods, "cross-node-sample").length, 6 + 6);
  });
});
