// VXLAN mode in real namespaces: no BIRD; vxlan.calico (VNI 4096, UDP 4789, MTU 1410) with routes,
// neighbours and FDB entries the agent programs from the datastore. Then the pool is switched to plain
// BGP while the agents run: vxlan.calico goes away, BIRD starts, the routes become BIRD's.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { run, tryRun } from "../../../src/effects/exec.ts";
import { readStatus } from "../../../src/agent/daemon/status.ts";
import { vxlanMac } from "../../../src/agent/felix/plan.ts";
import { isRoot } from "../../support/netns-scope.ts";
import { RoutingLab, ping, startCapture, waitFor, type LabHost } from "./harness.ts";

// No periodic resync during the test (the daemon's default is 30 s): a route deleted by hand must come
// back through the agent's kernel watch.
const lab = new RoutingLab({ tag: "rv", hosts: 3, preset: "vxlan", resyncMs: 600_000 });

describe(
  "routing: VXLAN mode, 3 hosts × 2 pods",
  { skip: !isRoot() && "needs root", timeout: 300_000 },
  () => {
    before(() => lab.up(2));
    after(() => lab.teardown());

    test("vxlan.calico: VNI 4096, UDP 4789, MTU 1410, the node's VTEP MAC and tunnel /32; no BIRD", async () => {
      const snap = await lab.snapshot();
      for (const h of lab.hosts) {
        const [l] = JSON.parse(
          await run(["ip", "-n", h.netns, "-j", "-d", "addr", "show", "dev", "vxlan.calico"]),
        ) as {
          mtu: number;
          address: string;
          linkinfo: { info_data: { id: number; port: number; local: string } };
          addr_info: { family: string; local: string; prefixlen: number }[];
        }[];
        assert.equal(l!.mtu, 1410);
        assert.equal(l!.address, vxlanMac(h.name));
        assert.deepEqual(
          [l!.linkinfo.info_data.id, l!.linkinfo.info_data.port, l!.linkinfo.info_data.local],
          [4096, 4789, h.address],
        );
        const tunnel = snap.nodes.find((n) => n.metadata.name === h.name)!.spec.ipv4VXLANTunnelAddr;
        assert.deepEqual(
          l!.addr_info.filter((a) => a.family === "inet").map((a) => `${a.local}/${a.prefixlen}`),
          [`${tunnel}/32`],
        );
        assert.equal((await readStatus(h.runDir))?.birdPid, undefined, `${h.name}: BIRD must not run`);
      }
    });

    test("routes: remote blocks via the peers' tunnel addresses on vxlan.calico, own blocks blackholed", async () => {
      await waitFor("VXLAN routes on every host", () => lab.routesAsExpected(), 20_000);
      for (const h of lab.hosts) {
        const lines = await lab.podRoutes(h);
        assert.equal(
          lines.filter((l) => / dev vxlan\.calico proto 80 onlink$/.test(l)).length,
          2,
          lines.join("; "),
        );
        const fdb = await run(["bridge", "-n", h.netns, "fdb", "show", "dev", "vxlan.calico"]);
        for (const o of lab.hosts.filter((x) => x !== h))
          assert.match(
            fdb,
            new RegExp(`${vxlanMac(o.name)} dst ${o.address.replace(/\./g, "\\.")} self permanent`),
          );
      }
    });

    test("a route deleted by hand is back within 2 s: the kernel watch wakes the agent", async () => {
      const h = lab.hosts[1]!;
      const [route] = (await lab.podRoutes(h)).filter((l) => / dev vxlan\.calico proto 80 onlink$/.test(l));
      assert.ok(route, `${h.name}: no VXLAN route`);
      const block = route.split(" ")[0]!;
      await run(["ip", "-n", h.netns, "route", "del", block, "proto", "80"]);
      const started = Date.now();
      await waitFor(
        `${block} back on ${h.name}`,
        async () => (await lab.podRoutes(h)).includes(route),
        2000,
        50,
      );
      console.log(
        `vxlan: route ${block} deleted by hand on ${h.name}, back after ${Date.now() - started} ms`,
      );
    });

    test("every pod pings every pod", async () => {
      assert.deepEqual(await lab.pingMatrix(), []);
    });

    test("the underlay carries the pod packets inside UDP 4789 (VXLAN, VNI 4096)", async () => {
      const [h1, h2] = lab.hosts as [LabHost, LabHost];
      const src = lab.pods.find((p) => p.host === h1.name)!;
      const dst = lab.pods.find((p) => p.host === h2.name)!;
      const cap = await startCapture(lab.switchNetns, h1.port, ["icmp", "or", "udp", "port", "4789"], 4, 8);
      assert.ok(await ping(src.podNetns, dst.ip, 2));
      const text = await cap.done;
      const esc = (s: string) => s.replace(/\./g, "\\.");
      assert.match(
        text,
        new RegExp(
          `${esc(h1.address)}\\.\\d+ > ${esc(h2.address)}\\.4789: VXLAN, flags \\[I\\] \\(0x08\\), vni 4096`,
        ),
        text,
      );
      assert.match(text, new RegExp(`${esc(src.ip)} > ${esc(dst.ip)}: ICMP echo request`), text);
      // No bare ICMP between pod IPs on the wire: every pod packet is inside VXLAN.
      const bare = text
        .split("\n")
        .filter(
          (l) =>
            /ethertype IPv4.*10\.244\.\d+\.\d+ > 10\.244\.\d+\.\d+: ICMP/.test(l) &&
            !/^\s/.test(l) &&
            !/VXLAN/.test(l),
        );
      assert.deepEqual(
        bare.filter((l) => !/> 66:/.test(l)),
        [],
        text,
      );
    });

    test("switching the pool to plain BGP live: vxlan.calico removed, BIRD started, routes via the underlay", async () => {
      const pool = (await lab.snapshot()).pools[0]!;
      const yaml = JSON.stringify({ ...pool, spec: { ...pool.spec, vxlanMode: "Never" } });
      await lab.calicoctl(["apply", "-f", "-"], yaml);
      await waitFor(
        "vxlan.calico gone and BGP routes everywhere",
        async () => {
          for (const h of lab.hosts) {
            if ((await tryRun(["ip", "-n", h.netns, "link", "show", "dev", "vxlan.calico"])).exitCode === 0)
              return false;
            const lines = await lab.podRoutes(h);
            if (lines.filter((l) => / dev eth0 proto bird$/.test(l)).length !== 2) return false;
            if (lines.some((l) => /proto 80/.test(l))) return false;
          }
          return true;
        },
        20_000,
      );
      for (const h of lab.hosts) assert.ok((await readStatus(h.runDir))?.birdPid, `${h.name}: BIRD runs`);
      const snap = await lab.snapshot();
      assert.ok(
        snap.nodes.every((n) => n.spec.ipv4VXLANTunnelAddr === undefined),
        "VXLAN tunnel addresses released",
      );
      assert.deepEqual(await lab.pingMatrix(), []);
    });
  },
);
