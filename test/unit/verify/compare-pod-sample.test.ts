// The pod-pair sample for big labs (src/verify/pod-sample.ts): every ordered node pair once, every pod used.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { podPairs, type RunningPod } from "../../../src/verify/expectations.ts";
import { sampledPodPairs, selectPodPairs } from "../../../src/verify/pod-sample.ts";

function lab(nodes: number, perNode: number): RunningPod[] {
  const pods: RunningPod[] = [];
  for (let n = 1; n <= nodes; n++)
    for (let k = 1; k <= perNode; k++)
      pods.push({ name: `p-h${n}-${k}`, host: `h${n}`, ip: `10.244.${n}.${k}`, server: false });
  return pods;
}

describe("pod pairs: cross-node sample", () => {
  it("50 nodes x 4 pods: 2,450 cross-node pairs (each ordered node pair once) and 200 same-node pairs", () => {
    const pods = lab(50, 4);
    const pairs = sampledPodPairs(pods);
    const cross = pairs.filter((p) => p.crossNode);
    assert.equal(cross.length, 50 * 49);
    assert.equal(pairs.length - cross.length, 200);
    assert.equal(podPairs(pods).length, 39_800);
    const nodePairs = new Set(cross.map((p) => `${p.from.host}>${p.to.host}`));
    assert.equal(nodePairs.size, 50 * 49);
    for (const p of pairs) {
      assert.notEqual(p.from, p.to);
      assert.equal(p.crossNode, p.from.host !== p.to.host);
    }
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
