// Route reflectors in real namespaces: 5 hosts start in the default full mesh; then, applied with
// calicoctl while the agents run, the mesh goes off (BGPConfiguration) and two nodes labelled
// route-reflector (with a cluster id) become reflectors through BGPPeer selectors. Each agent sees the
// change through its etcd watch and reconfigures BIRD.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { nodeStatus } from "../../../src/agent/daemon/launch.ts";
import { runFiles } from "../../../src/agent/daemon/status.ts";
import { showProtocols } from "../../../src/agent/bird/birdc.ts";
import { parseBirdProtocols, type PeerStatus } from "../../../src/agent/status/node-status.ts";
import { expectedBlackholes, expectedRemoteRoutes } from "../../../src/agent/felix/plan.ts";
import { assertGolden } from "../../support/golden.ts";
import { isRoot } from "../../support/netns-scope.ts";
import { RoutingLab, waitFor, type LabHost } from "./harness.ts";

const RR_CLUSTER = "244.0.0.1";
const lab = new RoutingLab({
  tag: "rr",
  hosts: 5,
  preset: "bgp",
  hostExtras: (i) => (i < 2 ? { labels: { "route-reflector": "true" }, rrClusterId: RR_CLUSTER } : {}),
});

const RR_RESOURCES = `
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  nodeToNodeMeshEnabled: false
  asNumber: 64512
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: peer-with-route-reflectors
spec:
  nodeSelector: "!has(route-reflector)"
  peerSelector: has(route-reflector)
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: route-reflector-mesh
spec:
  nodeSelector: has(route-reflector)
  peerSelector: has(route-reflector)
`;

async function sessions(h: LabHost): Promise<PeerStatus[]> {
  return parseBirdProtocols(await showProtocols(runFiles(h.runDir).birdSocket).catch(() => ""));
}

async function routesComplete(h: LabHost): Promise<boolean> {
  const snap = await lab.snapshot();
  const want = [
    ...expectedRemoteRoutes(snap, h.name, "eth0").map((r) => r.line),
    ...expectedBlackholes(snap, h.name),
  ].sort();
  return JSON.stringify(want) === JSON.stringify((await lab.podRoutes(h)).sort());
}

describe("routing: route reflectors, 5 hosts", { skip: !isRoot() && "needs root", timeout: 150_000 }, () => {
  before(async () => {
    try {
      await lab.build();
      await lab.startAgents();
      await lab.addPods(1);
    } catch (e) {
      await lab.teardown();
      throw e;
    }
  });
  after(() => lab.teardown());

  test("full mesh first: every node has 4 node-to-node mesh sessions", async () => {
    for (const h of lab.hosts) {
      await waitFor(
        `${h.name}: 4 mesh sessions Established`,
        async () => {
          const s = await sessions(h);
          return s.length === 4 && s.every((p) => p.type === "node-to-node mesh" && p.info === "Established");
        },
        10_000,
      );
    }
  });

  test("mesh off + BGPPeers by label, applied live: a client has 2 sessions (not 4), a reflector 4", async () => {
    const out = await lab.calicoctl(["apply", "-f", "-"], RR_RESOURCES);
    assert.match(out, /Successfully applied 3 resource\(s\)/);
    const [rr1, rr2, ...clients] = lab.hosts as [LabHost, LabHost, ...LabHost[]];
    for (const c of clients) {
      await waitFor(
        `${c.name}: 2 sessions to the reflectors`,
        async () => {
          const s = await sessions(c);
          return (
            s.length === 2 &&
            s.every((p) => p.type === "node specific" && p.info === "Established") &&
            s.map((p) => p.address).join() === `${rr1.address},${rr2.address}`
          );
        },
        10_000,
      );
    }
    for (const rr of [rr1, rr2]) {
      await waitFor(
        `${rr.name}: 4 node specific sessions`,
        async () => {
          const s = await sessions(rr);
          return s.length === 4 && s.every((p) => p.type === "node specific" && p.info === "Established");
        },
        10_000,
      );
    }
    const conf = await import("node:fs/promises").then((fs) =>
      fs.readFile(runFiles(rr1.runDir).birdConf, "utf8"),
    );
    assert.match(
      conf,
      new RegExp(`protocol bgp Node_10_99_0_13 \\{[^}]*rr client;\\s+rr cluster id ${RR_CLUSTER};`),
    );
    assert.doesNotMatch(
      conf,
      /protocol bgp Node_10_99_0_12 \{[^}]*rr client;/,
      "the other reflector is no client",
    );
  });

  test("routes through the reflectors: every host has every remote block via its owner, all pods reach each other", async () => {
    for (const h of lab.hosts) await waitFor(`${h.name}: routes`, () => routesComplete(h), 10_000);
    assert.deepEqual(await lab.pingMatrix(), []);
  });

  test("node status on a client matches Calico's layout", async () => {
    const text = await nodeStatus(lab.hosts[2]!.runDir);
    await assertGolden("routing/node-status-rr-client.txt", text.replace(/\d\d:\d\d:\d\d/g, "hh:mm:ss"));
  });
});
