// Route reflectors in real namespaces: 5 hosts start in the default full mesh; then, applied with
// calicoctl while the agents run, the mesh goes off (BGPConfiguration) and two nodes labelled
// route-reflector (with a cluster id) become reflectors through BGPPeer selectors. Each agent sees the
// change through its etcd watch and reconfigures BIRD.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "../../../src/effects/exec.ts";
import { BIRD_BIN, BIRDC_BIN } from "../../../src/agent/bird/birdc.ts";
import { nodeStatus } from "../../../src/agent/daemon/launch.ts";
import { runFiles } from "../../../src/agent/daemon/status.ts";
import { showProtocols } from "../../../src/agent/bird/birdc.ts";
import { parseBirdProtocols, type PeerStatus } from "../../../src/agent/status/node-status.ts";
import { expectedBlackholes, expectedRemoteRoutes } from "../../../src/agent/felix/plan.ts";
import { assertGolden } from "../../support/golden.ts";
import { isRoot } from "../../support/netns-scope.ts";
import { RoutingLab, ping, waitFor, type LabHost } from "./harness.ts";

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

describe("routing: route reflectors, 5 hosts", { skip: !isRoot() && "needs root", timeout: 300_000 }, () => {
  before(() => lab.up(1));
  after(() => lab.teardown());

  test("full mesh first: every node has 4 node-to-node mesh sessions", async () => {
    for (const h of lab.hosts) {
      await waitFor(
        `${h.name}: 4 mesh sessions Established`,
        async () => {
          const s = await sessions(h);
          return s.length === 4 && s.every((p) => p.type === "node-to-node mesh" && p.info === "Established");
        },
        20_000,
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
        20_000,
      );
    }
    for (const rr of [rr1, rr2]) {
      await waitFor(
        `${rr.name}: 4 node specific sessions`,
        async () => {
          const s = await sessions(rr);
          return s.length === 4 && s.every((p) => p.type === "node specific" && p.info === "Established");
        },
        20_000,
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
    for (const h of lab.hosts) await waitFor(`${h.name}: routes`, () => routesComplete(h), 20_000);
    assert.deepEqual(await lab.pingMatrix(), []);
  });

  test("an outside router peering with the reflectors (seed 004) learns every block and reaches pods", async (t) => {
    // The lab's outside host: 10.99.0.200 on br0, no route to the pods.
    const outside = lab.outsideNetns;
    const conf = join(lab.dir, "outside-bird.conf");
    const sock = join(lab.dir, "outside-bird.ctl");
    const session = (name: string, ip: string) =>
      `protocol bgp ${name} { local 10.99.0.200 as 64512; neighbor ${ip} as 64512; direct;\n` +
      "  ipv4 { import all; export none; gateway direct; }; connect delay time 1; connect retry time 1; }";
    await writeFile(
      conf,
      [
        "router id 10.99.0.200;",
        "protocol device { scan time 2; }",
        'protocol direct { ipv4; interface "eth0"; }',
        "protocol kernel { metric 0; ipv4 { import none; export where source = RTS_BGP; }; }",
        session("rr1", "10.99.0.11"),
        session("rr2", "10.99.0.12"),
        "",
      ].join("\n"),
    );
    const bird = spawn("ip", ["netns", "exec", outside, BIRD_BIN, "-f", "-c", conf, "-s", sock], {
      stdio: "ignore",
    });
    t.after(() => {
      bird.kill("SIGKILL");
    });
    // The reflectors peer with it through a BGPPeer for the nodes labelled route-reflector.
    await lab.calicoctl(
      ["apply", "-f", "-"],
      "kind: BGPPeer\napiVersion: projectcalico.org/v3\nmetadata: { name: outside-router }\n" +
        "spec: { nodeSelector: has(route-reflector), peerIP: 10.99.0.200, asNumber: 64512 }\n",
    );
    const snap = await lab.snapshot();
    const want = snap.blocks
      .map((b) => {
        const owner = lab.host(b.affinity!.slice(5));
        return `${b.cidr} via ${owner.address} dev eth0 proto bird`;
      })
      .sort();
    let have: string[] = [];
    const ok = await waitFor(
      "the outside router's routes",
      async () => {
        const out = await run(["ip", "-n", outside, "route", "show", "proto", "bird"]);
        have = out
          .split("\n")
          .map((l) => l.trim().replace(/\s+/g, " "))
          .filter(Boolean)
          .map((l) => `${l} proto bird`)
          .sort();
        return JSON.stringify(have) === JSON.stringify(want);
      },
      20_000,
    ).then(
      () => true,
      () => false,
    );
    if (!ok) {
      const proto = await run([BIRDC_BIN, "-s", sock, "show", "protocols", "all"]).catch(
        (e: Error) => e.message,
      );
      assert.fail(`outside routes ${JSON.stringify(have)}, want ${JSON.stringify(want)}\n${proto}`);
    }
    const rrConf = await readFile(runFiles(lab.hosts[0]!.runDir).birdConf, "utf8");
    assert.match(
      rrConf,
      /protocol bgp Node_10_99_0_200 \{[^}]*rr client;/,
      "the outside router is a reflector client",
    );
    const clientConf = await readFile(runFiles(lab.hosts[3]!.runDir).birdConf, "utf8");
    assert.doesNotMatch(clientConf, /10_99_0_200/, "clients do not peer with it");
    for (const pod of lab.pods)
      assert.ok(await ping(outside, pod.ip, 1, 2), `outside → ${pod.pod} (${pod.ip})`);
  });

  test("node status on a client matches Calico's layout", async () => {
    const text = await nodeStatus(lab.hosts[2]!.runDir);
    await assertGolden("routing/node-status-rr-client.txt", text.replace(/\d\d:\d\d:\d\d/g, "hh:mm:ss"));
  });
});
