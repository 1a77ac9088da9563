import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { newResource } from "../../../../src/agent/datastore/keys.ts";
import { planPeers } from "../../../../src/agent/confd/peers.ts";
import type { BGPConfiguration, BGPPeer } from "../../../../src/agent/confd/types.ts";
import { node, seedNodes } from "../fixtures.ts";

const meshOff: BGPConfiguration = newResource(
  "BGPConfiguration",
  { name: "default" },
  { nodeToNodeMeshEnabled: false, asNumber: 63400 },
);
const peer = (name: string, spec: BGPPeer["spec"]): BGPPeer => newResource("BGPPeer", { name }, spec);

describe("BGP peers", () => {
  it("full mesh: every other node, AS 64512, direct on the same subnet", () => {
    const peers = planPeers(seedNodes[0]!, seedNodes, []);
    assert.deepEqual(
      peers.map((p) => [p.name, p.ip, p.asNumber, p.type, p.direct, p.rrClient]),
      [
        ["Mesh_192_168_19_166", "192.168.19.166", 64512, "node-to-node mesh", true, false],
        ["Mesh_192_168_19_167", "192.168.19.167", 64512, "node-to-node mesh", true, false],
      ],
    );
  });

  // Seed 004's shape: 5 nodes, 2 route reflectors chosen by label, mesh off.
  const rrLabels = { "route-reflector": "true" };
  const five = [
    node("rr-1", "10.0.0.1/24", { labels: rrLabels, rr: "244.0.0.1" }),
    node("rr-2", "10.0.0.2/24", { labels: rrLabels, rr: "244.0.0.1" }),
    node("n-3", "10.0.0.3/24"),
    node("n-4", "10.0.0.4/24"),
    node("n-5", "10.0.0.5/24"),
  ];
  const rrPeers = [
    peer("peer-to-rrs", { nodeSelector: "!has(route-reflector)", peerSelector: "has(route-reflector)" }),
    peer("rr-mesh", { nodeSelector: "has(route-reflector)", peerSelector: "has(route-reflector)" }),
    peer("rrs-to-clients", { nodeSelector: "has(route-reflector)", peerSelector: "!has(route-reflector)" }),
  ];

  it("route reflectors: a client has 2 sessions, to the reflectors (not 4)", () => {
    const peers = planPeers(five[2]!, five, rrPeers, meshOff);
    assert.deepEqual(
      peers.map((p) => [p.name, p.type, p.asNumber, p.rrClient]),
      [
        ["Node_10_0_0_1", "node specific", 63400, false],
        ["Node_10_0_0_2", "node specific", 63400, false],
      ],
    );
  });

  it("a reflector peers with the other reflector and treats the rest as rr clients", () => {
    const peers = planPeers(five[0]!, five, rrPeers, meshOff);
    assert.deepEqual(
      peers.map((p) => [p.ip, p.rrClient]),
      [
        ["10.0.0.2", false],
        ["10.0.0.3", true],
        ["10.0.0.4", true],
        ["10.0.0.5", true],
      ],
    );
  });

  it("peerings are symmetric: with only `!has(rr) → has(rr)` the reflectors still peer with their clients", () => {
    // Calico's documented route-reflector setup has no reflector-to-client BGPPeer: confd configures the
    // reverse direction on the nodes the peerSelector matches.
    const oneWay = rrPeers.slice(0, 2);
    assert.deepEqual(
      planPeers(five[0]!, five, oneWay, meshOff).map((p) => [p.ip, p.type, p.rrClient]),
      [
        ["10.0.0.2", "node specific", false],
        ["10.0.0.3", "node specific", true],
        ["10.0.0.4", "node specific", true],
        ["10.0.0.5", "node specific", true],
      ],
    );
    assert.deepEqual(
      planPeers(five[3]!, five, oneWay, meshOff).map((p) => p.ip),
      ["10.0.0.1", "10.0.0.2"],
    );
    // A peering named for one node is symmetric too.
    const pinned = [peer("n3-to-n4", { node: "n-3", peerSelector: "!has(route-reflector) && !has(x)" })];
    assert.ok(planPeers(five[3]!, five, pinned, meshOff).some((p) => p.ip === "10.0.0.3"));
  });

  it("a global peer (no node selector) applies to every node; an outside AS is never an rr client", () => {
    const ext = peer("outside", { peerIP: "10.0.9.9", asNumber: 65001 });
    const peers = planPeers(five[0]!, five, [...rrPeers, ext], meshOff);
    const g = peers.find((p) => p.ip === "10.0.9.9")!;
    assert.deepEqual(
      [g.name, g.type, g.asNumber, g.rrClient, g.direct],
      ["Global_10_0_9_9", "global", 65001, false, false],
    );
  });

  it("explicit peers win over the mesh for the same address", () => {
    const p = peer("w1", { node: "master", peerIP: "192.168.19.166", asNumber: 64512 });
    const peers = planPeers(seedNodes[0]!, seedNodes, [p]);
    assert.equal(peers.find((x) => x.ip === "192.168.19.166")!.type, "node specific");
    assert.equal(peers.length, 2);
  });
});
