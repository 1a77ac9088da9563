// IPIP mode in real namespaces, with a kernel that has the ipip module (scripts/ci-vm runs this inside a VM
// with Debian's kernel; on a kernel without ipip it skips): 3 hosts, 2 pods on different hosts. tunl0 with
// the node's /32 tunnel address at MTU 1440, remote blocks via the peers' underlay addresses on tunl0
// (onlink), protocol 4 on the wire. Then the seeds' reboot, gone: the pool is switched to ipipMode Never
// in the datastore while the agents run, and tunl0 goes away, the routes move to eth0, packets go plain.
//
// Run with `sysctl -w net.core.fb_tunnels_only_for_init_net=1` set before the namespaces are created (as
// scripts/ci-vm does): the hosts then have no fallback tunl0, the agent creates its own and can delete it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { run, tryRun } from "../../../src/effects/exec.ts";
import { createNetns, deleteNetns } from "../../../src/effects/netns.ts";
import { isRoot, runPrefix } from "../../support/netns-scope.ts";
import { RoutingLab, waitFor, type LabHost, type LabPod } from "./harness.ts";

/** Phase timings on stderr inside a VM (the boot-to-result breakdown scripts/ci-vm reports). */
const t0 = Date.now();
function mark(what: string): void {
  if (process.env.VM_RUN)
    process.stderr.write(`ipip-timing: ${what} at +${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}
mark(`test module loaded ${process.uptime().toFixed(1)} s after node started`);

/** Why this kernel can't run the test (undefined: it can): an ipip device in a throwaway namespace. */
async function ipipUnavailable(): Promise<string | undefined> {
  if (!isRoot()) return "needs root";
  const ns = `${runPrefix("ipp")}-probe`;
  try {
    await createNetns(ns);
    const r = await tryRun(["ip", "-n", ns, "link", "add", "name", "ipprobe0", "type", "ipip"]);
    if (r.exitCode === 0) return undefined;
    return (
      `this kernel cannot create an ipip device (${r.stderr.trim() || `exit ${r.exitCode}`}); ` +
      "scripts/ci-vm runs this test in a VM with Debian's kernel"
    );
  } finally {
    await deleteNetns(ns).catch(() => undefined);
  }
}

const skip = await ipipUnavailable();
mark(`ipip probe: ${skip ?? "ok"}`);
// Under TCG a node process takes seconds to start and a resync pass seconds to run: the agents get longer
// to become ready, and resync rarely (the datastore watch drives every change this test makes).
const lab = new RoutingLab({
  tag: "ri",
  hosts: 3,
  preset: "ipip",
  readyTimeoutMs: 240_000,
  resyncMs: 60_000,
});

/** Under TCG every agent reaction costs seconds: generous deadlines, still bounded. */
const DEADLINE_MS = 90_000;

async function fbOnlyInitNet(): Promise<number> {
  try {
    return Number((await readFile("/proc/sys/net/core/fb_tunnels_only_for_init_net", "utf8")).trim());
  } catch {
    return 0;
  }
}

interface Tunl {
  flags: string[];
  mtu: number;
  addrs: string[];
}

async function tunl0(h: LabHost): Promise<Tunl | null> {
  const r = await tryRun(["ip", "-n", h.netns, "-j", "addr", "show", "dev", "tunl0"]);
  if (r.exitCode !== 0) return null;
  const [l] = JSON.parse(r.stdout) as {
    flags: string[];
    mtu: number;
    addr_info: { family: string; local: string; prefixlen: number }[];
  }[];
  if (!l) return null;
  return {
    flags: l.flags,
    mtu: l.mtu,
    addrs: l.addr_info.filter((a) => a.family === "inet").map((a) => `${a.local}/${a.prefixlen}`),
  };
}

describe(
  "routing: IPIP mode, 3 hosts, 2 pods on different hosts; then ipipMode Never live",
  { skip: skip ?? false, timeout: 900_000 },
  () => {
    before(() => lab.up(1, [0, 1], mark));
    after(async () => {
      if (process.env.VM_RUN) await lab.dumpAgentLogs();
      await lab.teardown();
      mark("torn down");
    });

    test("every pod pings every pod", async () => {
      await waitFor("IPIP routes on every host", () => lab.routesAsExpected(), DEADLINE_MS, 500);
      assert.equal(lab.pods.length, 2);
      assert.notEqual(lab.pods[0]!.host, lab.pods[1]!.host);
      assert.deepEqual(await lab.pingMatrix(1, 5), []);
    });

    test("tunl0 on every host: UP, MTU 1440, the node's /32 tunnel address (first IP of its block)", async () => {
      const snap = await lab.snapshot();
      for (const h of lab.hosts) {
        const tunnel = snap.nodes.find((n) => n.metadata.name === h.name)?.spec.bgp?.ipv4IPIPTunnelAddr;
        assert.ok(tunnel, `${h.name}: ipv4IPIPTunnelAddr`);
        const blocks = snap.blocks.filter((b) => b.affinity === `host:${h.name}`).map((b) => b.cidr);
        assert.ok(
          blocks.some((c) => c.split("/")[0] === tunnel),
          `${h.name}: ${tunnel} is the first IP of one of its blocks (${blocks.join(", ")})`,
        );
        const l = await tunl0(h);
        assert.ok(l, `${h.name}: tunl0 exists`);
        assert.ok(l.flags.includes("UP"), `${h.name}: tunl0 UP (${l.flags.join(",")})`);
        assert.equal(l.mtu, 1440, `${h.name}: tunl0 MTU`);
        assert.deepEqual(l.addrs, [`${tunnel}/32`], `${h.name}: tunl0 addresses`);
      }
    });

    test("routes: remote blocks exactly `<block> via <node> dev tunl0 proto bird onlink`", async () => {
      const snap = await lab.snapshot();
      for (const h of lab.hosts) {
        const lines = await lab.podRoutes(h);
        const remote = lines.filter((l) => !l.startsWith("blackhole "));
        const want = snap.blocks
          .filter((b) => b.affinity && b.affinity !== `host:${h.name}`)
          .map((b) => {
            const owner = lab.host(b.affinity!.replace(/^host:/, ""));
            return `${b.cidr} via ${owner.address} dev tunl0 proto bird onlink`;
          })
          .sort();
        assert.equal(want.length, 2, `${h.name}: two remote blocks`);
        assert.deepEqual(remote.sort(), want, `${h.name}: ${lines.join("; ")}`);
        assert.deepEqual(lines.sort(), await lab.expectedRouteLines(h));
      }
    });

    test("the underlay carries the pods' ICMP inside IP protocol 4 (IPIP)", async (t) => {
      const [src, dst] = lab.pods as [LabPod, LabPod];
      const p = await lab.capturePing(t, "br0", src, dst);
      assert.ok(p, "a frame carrying the pod's echo request on br0");
      t.diagnostic(`IPIP frame: ${p.line}`);
      assert.deepEqual(
        [p.kind, p.outerSrc, p.outerDst],
        ["ipip", lab.host(src.host).address, lab.host(dst.host).address],
        p.line,
      );
    });

    test("ipipMode Never applied to the running lab: tunl0 gone, routes via eth0, plain ICMP", async (t) => {
      const strict = (await fbOnlyInitNet()) >= 1;
      await lab.applyPool({ ipipMode: "Never" });
      const took = await waitFor(
        "tunl0 out of use and BGP routes via eth0 on every host",
        async () => {
          for (const h of lab.hosts) {
            const l = await tunl0(h);
            if (l && (strict || l.flags.includes("UP") || l.addrs.length > 0)) return false;
            const all = await run(["ip", "-n", h.netns, "route", "show"]);
            if (/ dev tunl0\b/.test(all)) return false;
          }
          return lab.routesAsExpected();
        },
        DEADLINE_MS,
        500,
      );
      t.diagnostic(`IPIP off everywhere ${took} ms after the apply`);
      const snap = await lab.snapshot();
      assert.equal(snap.pools[0]?.spec.ipipMode, "Never");
      assert.ok(
        snap.nodes.every((n) => n.spec.bgp?.ipv4IPIPTunnelAddr === undefined),
        "IPIP tunnel addresses released",
      );
      for (const h of lab.hosts) {
        const l = await tunl0(h);
        if (strict) assert.equal(l, null, `${h.name}: tunl0 deleted`);
        else if (l) {
          assert.ok(!l.flags.includes("UP"), `${h.name}: tunl0 down`);
          assert.deepEqual(l.addrs, [], `${h.name}: tunl0 without addresses`);
        }
        assert.doesNotMatch(await run(["ip", "-n", h.netns, "route", "show"]), / dev tunl0\b/);
        const remote = (await lab.podRoutes(h)).filter((x) => !x.startsWith("blackhole "));
        assert.ok(remote.length > 0, `${h.name}: remote block routes`);
        for (const r of remote) assert.match(r, /^\S+ via 10\.99\.0\.\d+ dev eth0 proto bird$/);
      }
      for (const pod of lab.pods) {
        const h = lab.host(pod.host);
        for (const o of lab.hosts.filter((x) => x !== h)) {
          const lines = await lab.podRoutes(o);
          assert.ok(
            lines.some((x) => x.endsWith(`via ${h.address} dev eth0 proto bird`)),
            `${o.name}: a route to ${pod.pod}'s block via ${h.address} (${lines.join("; ")})`,
          );
        }
      }
      assert.deepEqual(await lab.pingMatrix(1, 5), []);
      const [src, dst] = lab.pods as [LabPod, LabPod];
      const p = await lab.capturePing(t, "br0", src, dst);
      assert.ok(p, "a frame carrying the pod's echo request on br0");
      assert.equal(p.kind, "plain", p.line);
    });
  },
);
