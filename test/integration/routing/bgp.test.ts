// BGP mode (IPIP and VXLAN off) in real namespaces, real BIRD, real etcd: 3 hosts × 2 pods. Routes learned
// over the node-to-node mesh, packets forwarded unencapsulated; natOutgoing towards an outside host;
// faults: BIRD killed (restarted with graceful restart: routes and pod traffic kept), agent killed
// (started again by its supervisor, BIRD adopted, nothing reallocated, no orphan), etcd killed (agents
// say they lost it, then resume).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile, readdir } from "node:fs/promises";
import { run, tryRun } from "../../../src/effects/exec.ts";
import {
  nodeStatus,
  startAgent,
  stopAgent,
  agentRunning,
  agentSupervised,
} from "../../../src/agent/daemon/launch.ts";
import { processState } from "../../../src/agent/bird/supervisor.ts";
import { startEtcd } from "../../../src/agent/datastore/etcd-server.ts";
import { join } from "node:path";
import { readStatus, runFiles } from "../../../src/agent/daemon/status.ts";
import { parseBirdProtocols } from "../../../src/agent/status/node-status.ts";
import { showProtocols } from "../../../src/agent/bird/birdc.ts";
import { BLOCK_PREFIX, type AllocationBlock } from "../../../src/agent/datastore/keys.ts";
import { isRoot } from "../../support/netns-scope.ts";
import { RoutingLab, ping, startCapture, waitFor, type LabHost } from "./harness.ts";

// No periodic resync during the test (the daemon's default is 30 s): every change below must reach the
// agents through their datastore and kernel watches, and the counters of the event-filter test are exact.
const lab = new RoutingLab({ tag: "rb", hosts: 3, preset: "bgp", resyncMs: 600_000 });

async function routesComplete(h: LabHost): Promise<boolean> {
  const want = await lab.expectedRouteLines(h);
  const have = (await lab.podRoutes(h)).sort();
  return JSON.stringify(want) === JSON.stringify(have);
}

const allRoutes = async () => (await Promise.all(lab.hosts.map(routesComplete))).every(Boolean);

/**
 * Pings every 50 ms from `netns` to `ip` while `fault` runs (it starts 0.5 s in); resolves with the
 * pings lost, the pod traffic lost in ms (lost × 50) and the ping's summary line.
 */
async function lossDuring(
  netns: string,
  ip: string,
  fault: () => Promise<void>,
  seconds = 5,
): Promise<{ lost: number; lostMs: number; summary: string }> {
  const count = seconds * 20;
  const pinging = tryRun(["ip", "netns", "exec", netns, "ping", "-n", "-q", "-i", "0.05", "-W", "1", "-c", String(count), ip]); // prettier-ignore
  await new Promise((r) => setTimeout(r, 500));
  await fault();
  const out = (await pinging).stdout;
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  assert.ok(m, `ping summary: ${out}`);
  const lost = Number(m[1]) - Number(m[2]);
  return { lost, lostMs: lost * 50, summary: m[0] };
}

/** A BGPPeer to an address where nobody answers (the sessions never come up). */
const bgpPeer = (ip: string) =>
  JSON.stringify({
    apiVersion: "projectcalico.org/v3",
    kind: "BGPPeer",
    metadata: { name: "nobody-there" },
    spec: { peerIP: ip, asNumber: 65099 },
  });

/** Pids of the children of `pid` (from /proc/<n>/stat's ppid). */
async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const e of await readdir("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    const stat = await readFile(`/proc/${e}/stat`, "utf8").catch(() => "");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid === pid) out.push(Number(e));
  }
  return out;
}

async function macOf(netns: string, ifname: string): Promise<string> {
  const [l] = JSON.parse(await run(["ip", "-n", netns, "-j", "link", "show", "dev", ifname])) as {
    address: string;
  }[];
  return l!.address;
}

/** The IPAM state that must survive an agent restart: every block's allocations and handles. */
async function ipamState(): Promise<string> {
  const blocks = (await lab.kvs(BLOCK_PREFIX)).map((kv) => JSON.parse(kv.value) as AllocationBlock);
  return JSON.stringify(blocks.map((b) => [b.cidr, b.affinity, b.allocations, b.attributes]));
}

describe("routing: BGP mode, 3 hosts × 2 pods", { skip: !isRoot() && "needs root", timeout: 300_000 }, () => {
  before(() => lab.up(2));
  after(() => lab.teardown());

  test("each host's routes to remote blocks are exactly `<block> via <node-ip> dev eth0 proto bird`, own blocks blackholed", async () => {
    await waitFor("BGP routes on every host", allRoutes, 20_000);
    for (const h of lab.hosts) {
      const lines = await lab.podRoutes(h);
      const remote = lines.filter((l) => !l.startsWith("blackhole"));
      assert.equal(remote.length, 2, `${h.name}: ${lines.join("; ")}`);
      for (const l of remote)
        assert.match(l, /^10\.244\.\d+\.\d+\/26 via 10\.99\.0\.1[123] dev eth0 proto bird$/);
      assert.deepEqual(lines.sort(), await lab.expectedRouteLines(h));
    }
  });

  test("no tunl0 and no vxlan.calico on any host", async () => {
    for (const h of lab.hosts) {
      for (const dev of ["tunl0", "vxlan.calico"]) {
        const r = await tryRun(["ip", "-n", h.netns, "link", "show", "dev", dev]);
        assert.notEqual(r.exitCode, 0, `${h.name} has ${dev}`);
      }
    }
  });

  test("every pod pings every pod", async () => {
    assert.deepEqual(await lab.pingMatrix(), []);
  });

  test("the underlay carries plain ICMP between pod IPs with the hosts' MACs, no encapsulation", async () => {
    const [h1, h2] = lab.hosts as [LabHost, LabHost];
    const src = lab.pods.find((p) => p.host === h1.name)!;
    const dst = lab.pods.find((p) => p.host === h2.name)!;
    const cap = await startCapture(
      lab.switchNetns,
      h1.port,
      ["icmp", "or", "udp", "port", "4789", "or", "ip", "proto", "4"],
      4,
      8,
    );
    assert.ok(await ping(src.podNetns, dst.ip, 2));
    const text = await cap.done;
    const [m1, m2] = [await macOf(h1.netns, "eth0"), await macOf(h2.netns, "eth0")];
    const request = new RegExp(
      `${m1} > ${m2}, ethertype IPv4 \\(0x0800\\), length \\d+: ${src.ip.replace(/\./g, "\\.")} > ${dst.ip.replace(/\./g, "\\.")}: ICMP echo request`,
    );
    const reply = new RegExp(
      `${m2} > ${m1}, ethertype IPv4 \\(0x0800\\), length \\d+: ${dst.ip.replace(/\./g, "\\.")} > ${src.ip.replace(/\./g, "\\.")}: ICMP echo reply`,
    );
    assert.match(text, request, text);
    assert.match(text, reply, text);
    assert.doesNotMatch(text, /VXLAN|\.4789:|ipip|proto IPIP|ip-proto-4/i);
  });

  test("node status: Calico's table, two node-to-node mesh peers Established", async () => {
    const text = await nodeStatus(lab.hosts[0]!.runDir);
    assert.match(text, /^Calico process is running\.\n\nIPv4 BGP status\n\+-+\+/);
    assert.match(text, /\| PEER ADDRESS \|\s+PEER TYPE\s+\| STATE \|\s+SINCE\s+\|\s+INFO\s+\|/);
    for (const ip of ["10.99.0.12", "10.99.0.13"])
      assert.match(
        text,
        new RegExp(
          `\\| ${ip.replace(/\./g, "\\.")} +\\| node-to-node mesh \\| up +\\| \\d\\d:\\d\\d:\\d\\d \\| Established +\\|`,
        ),
      );
    assert.match(text, /IPv6 BGP status\nNo IPv6 peers found\.\n$/);
  });

  test("natOutgoing: a pod reaches an outside host with no route to the pool; the outside sees the node's address", async () => {
    // The lab's outside host: 10.99.0.200 on br0, no route to the pods.
    const outside = lab.outsideNetns;
    assert.doesNotMatch(await run(["ip", "-n", outside, "route", "show"]), /10\.244\./);
    const pod = lab.pods.find((p) => p.host === "node-2")!;
    const cap = await startCapture(outside, "eth0", ["icmp"], 2, 8);
    assert.ok(await ping(pod.podNetns, "10.99.0.200", 1, 3), "pod → outside");
    const text = await cap.done;
    assert.match(text, /10\.99\.0\.12 > 10\.99\.0\.200: ICMP echo request/, text);
    assert.doesNotMatch(text, /10\.244\./, text);
    const nat = await run(["ip", "netns", "exec", lab.host("node-2").netns, "iptables-save", "-t", "nat"]);
    assert.match(nat, /-A POSTROUTING -j cali-POSTROUTING/);
    assert.match(nat, /-A cali-nat-outgoing -s 10\.244\.0\.0\/16 -j MASQUERADE/);
  });

  test("a pod added on node-1 wakes no other agent: its endpoint, handle and allocation are ignored events", async () => {
    const others = lab.hosts.slice(1);
    const counters = async () =>
      Promise.all(others.map(async (h) => (await readStatus(h.runDir))?.reconcile));
    // Counters reach status.json at most once a second after a pass: wait until they stand still (the
    // agents' passes after startup, and BIRD's routes waking their kernel watches, are over).
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    let before = await counters();
    for (let settled = false; !settled;) {
      await sleep(1500);
      const now = await counters();
      settled = JSON.stringify(now) === JSON.stringify(before);
      before = now;
    }
    await lab.addPods(1, [0]);
    await sleep(1500);
    const after = await counters();
    for (const [i, h] of others.entries()) {
      assert.ok(before[i] && after[i], `${h.name}: no reconcile counters in status.json`);
      assert.equal(
        after[i]!.passes,
        before[i]!.passes,
        `${h.name}: a pass ran (${JSON.stringify(after[i])})`,
      );
      assert.equal(after[i]!.unchangedPasses, before[i]!.unchangedPasses, `${h.name}: woken for nothing`);
      assert.ok(
        after[i]!.ignoredEvents >= before[i]!.ignoredEvents + 3,
        `${h.name}: the pod's writes were not seen at all (${JSON.stringify([before[i], after[i]])})`,
      );
    }
    assert.deepEqual(await lab.pingMatrix(), []);
  });

  test("a peering added wakes every agent, which plans it from its watch-fed copy: no read of etcd", async () => {
    const counters = async () =>
      Promise.all(lab.hosts.map(async (h) => (await readStatus(h.runDir))?.reconcile));
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    let before = await counters();
    for (let settled = false; !settled;) {
      await sleep(1500);
      const now = await counters();
      settled = JSON.stringify(now) === JSON.stringify(before);
      before = now;
    }
    const peer = (ip: string) =>
      JSON.stringify({
        apiVersion: "projectcalico.org/v3",
        kind: "BGPPeer",
        metadata: { name: "nobody-there" },
        spec: { peerIP: ip, asNumber: 65099 },
      });
    const confs = () => Promise.all(lab.hosts.map((h) => readFile(runFiles(h.runDir).birdConf, "utf8")));
    await lab.calicoctl(["apply", "-f", "-"], peer("10.99.0.250"));
    try {
      await waitFor(
        "the peering in every bird.conf",
        async () => (await confs()).every((c) => c.includes("neighbor 10.99.0.250 as 65099")),
        5000,
      );
      await sleep(1500);
      const after = await counters();
      for (const [i, h] of lab.hosts.entries()) {
        assert.ok(before[i] && after[i], `${h.name}: no reconcile counters in status.json`);
        assert.ok(after[i]!.passes > before[i]!.passes, `${h.name}: no pass (${JSON.stringify(after[i])})`);
        assert.ok(after[i]!.snapshotReads >= 1, `${h.name}: no full read counted (startup reads one)`);
        assert.equal(
          after[i]!.snapshotReads,
          before[i]!.snapshotReads,
          `${h.name}: the pass read etcd (${JSON.stringify([before[i], after[i]])})`,
        );
      }
    } finally {
      await lab.calicoctl(["delete", "-f", "-"], peer("10.99.0.250"));
    }
    await waitFor(
      "the peering gone from every bird.conf",
      async () => (await confs()).every((c) => !c.includes("10.99.0.250")),
      5000,
    );
  });

  test("kill -9 BIRD: the agent restarts it (graceful restart: ≤ 100 ms of pod traffic lost), sessions and routes back within 5 s", async (t) => {
    const h = lab.host("node-2");
    const before = (await readStatus(h.runDir))!.birdPid!;
    assert.ok(before > 0);
    const files = runFiles(h.runDir);
    const from = lab.pods.find((p) => p.host === "node-1")!;
    const to = lab.pods.find((p) => p.host === h.name)!;
    let took = 0;
    let inRecovery = false;
    // Across the restarting node: its kernel keeps the /26s learned from its peers, they keep its /26.
    const loss = await lossDuring(from.podNetns, to.ip, async () => {
      process.kill(before, "SIGKILL");
      took = await waitFor(
        "a new BIRD with every session Established and every route",
        async () => {
          const st = await readStatus(h.runDir);
          if (!st?.birdPid || st.birdPid === before) return false;
          const status = await tryRun(["birdc", "-s", files.birdSocket, "show", "status"]);
          inRecovery ||= /recovery in progress/i.test(status.stdout);
          const peers = parseBirdProtocols(await showProtocols(files.birdSocket).catch(() => ""));
          return peers.length === 2 && peers.every((p) => p.info === "Established") && (await allRoutes());
        },
        5000,
        50,
      );
    });
    t.diagnostic(`BIRD killed: ${loss.summary} at 50 ms pings, ${loss.lostMs} ms of pod traffic lost`);
    assert.ok(loss.lostMs <= 100, `BIRD restart lost ${loss.lostMs} ms of pod traffic (${loss.summary})`);
    assert.ok(took <= 5000, `took ${took} ms`);
    // Its graceful restart recovery ends with the sessions (End-of-RIB from both peers), not after
    // BIRD's 240 s wait: from then on its kernel table follows BGP again.
    const recovered = await waitFor(
      "graceful restart recovery over",
      async () => {
        const r = await tryRun(["birdc", "-s", files.birdSocket, "show", "status"]);
        return r.exitCode === 0 && !/recovery/i.test(r.stdout);
      },
      10_000,
      50,
    );
    t.diagnostic(
      `graceful restart recovery (seen in progress: ${inRecovery}) over ${recovered} ms after the routes were back`,
    );
    t.diagnostic(`BIRD killed → new BIRD, sessions Established and all routes back after ${took} ms`);
    assert.match(
      await readFile(files.agentLog, "utf8"),
      /BIRD \(pid \d+\) exited \(code null, signal SIGKILL\): restarting/,
    );
    assert.deepEqual(await lab.pingMatrix(), []);
  });

  test("kill -9 the agent: never ready while dead, no orphan, started again by its supervisor with BIRD adopted, nothing reallocated, 0 pod traffic lost", async (t) => {
    const h = lab.host("node-3");
    const st = (await readStatus(h.runDir))!;
    const ipam = await ipamState();
    const node = await lab.getJson<{ spec: unknown }>(
      `/calico/resources/v3/projectcalico.org/nodes/${h.name}`,
    );
    const monitors: number[] = [];
    for (const c of await childrenOf(st.pid)) {
      const argv = (await readFile(`/proc/${c}/cmdline`, "utf8").catch(() => "")).split("\0");
      if (argv[0] === "ip" && argv.includes("monitor")) monitors.push(c);
    }
    assert.equal(monitors.length, 1, "the agent watches its kernel with one `ip -o monitor`");
    const from = lab.pods.find((p) => p.host === "node-1")!;
    const to = lab.pods.find((p) => p.host === h.name)!;
    let sawDown = false;
    const loss = await lossDuring(from.podNetns, to.ip, async () => {
      process.kill(st.pid, "SIGKILL");
      await waitFor("the agent to be gone", async () => (await processState(st.pid)) !== "alive", 3000, 10);
      // Until a new agent says otherwise, status.json does not call the dead one ready.
      await waitFor(
        "status.json to drop the dead agent's ready",
        async () => {
          const now = await readStatus(h.runDir);
          if (now?.pid === st.pid && now.phase === "restarting") sawDown = true;
          return !(now?.pid === st.pid && now.phase === "ready");
        },
        2000,
        10,
      );
      for (const m of monitors)
        await waitFor(
          `its ip monitor (pid ${m}) gone`,
          async () => (await processState(m)) !== "alive",
          2000,
          20,
        );
      // Started again by its supervisor: nobody calls startAgent.
      await waitFor(
        "a new agent ready",
        async () => {
          const now = await readStatus(h.runDir);
          return now?.phase === "ready" && now.pid !== st.pid;
        },
        30_000,
        50,
      );
    });
    t.diagnostic(`agent killed (status "restarting" seen: ${sawDown}): ${loss.summary} at 50 ms pings`);
    assert.equal(loss.lost, 0, `pod traffic lost while the agent restarted: ${loss.summary}`);
    assert.ok(await agentRunning(h.runDir));
    assert.ok(await agentSupervised(h.runDir));
    assert.match(
      await readFile(runFiles(h.runDir).agentLog, "utf8"),
      /BIRD already running \(pid \d+, left by a previous agent\): adopted/,
    );
    assert.equal((await readStatus(h.runDir))?.birdPid, st.birdPid, "the same BIRD");
    // startAgent finds the supervised agent running and ready: it starts nothing.
    const again = await startAgent(lab.agentOptions(h));
    assert.equal(again.pid, (await readStatus(h.runDir))?.pid);
    assert.equal(await ipamState(), ipam, "IPAM unchanged");
    const node2 = await lab.getJson<{ spec: unknown }>(
      `/calico/resources/v3/projectcalico.org/nodes/${h.name}`,
    );
    assert.deepEqual(node2?.spec, node?.spec);
    await waitFor("routes", allRoutes, 5000);
    assert.deepEqual(await lab.pingMatrix(), []);
    // stopAgent stops the adopted BIRD too.
    await stopAgent(h.runDir);
    const bird = await readFile(runFiles(h.runDir).birdPid, "utf8").catch(() => "");
    assert.equal(bird, "");
    assert.equal(await agentSupervised(h.runDir), false, "its supervisor is gone too");
    await startAgent(lab.agentOptions(h));
  });

  test("kill -9 etcd: every agent says it lost etcd, BIRD keeps routing; etcd back on its data: ready again, nothing reallocated", async (t) => {
    // The previous test restarted node-3's agent and BIRD: its sessions first.
    await waitFor("routes", allRoutes, 10_000);
    assert.deepEqual(await lab.pingMatrix(), []);
    const ipam = await ipamState();
    const phases = async () => Promise.all(lab.hosts.map(async (h) => (await readStatus(h.runDir))?.phase));
    assert.deepEqual(
      await phases(),
      lab.hosts.map(() => "ready"),
    );
    await lab.etcd!.kill();
    const took = await waitFor(
      "every agent unready, naming etcd",
      async () =>
        (await Promise.all(lab.hosts.map((h) => readStatus(h.runDir)))).every(
          (s) =>
            s?.phase === "unready" &&
            /etcd at http:\/\/10\.99\.0\.11:2379 is unreachable/.test(s.lastError ?? ""),
        ),
      10_000,
      50,
    );
    t.diagnostic(`etcd killed: every agent unready after ${took} ms`);
    // The dataplane stays as it was programmed: pods reach each other without etcd.
    assert.deepEqual(await lab.pingMatrix(), []);
    // What its supervisor does in a lab: start it again on the same data dir.
    lab.etcd = await startEtcd({
      name: "master",
      dataDir: join(lab.dir, "etcd"),
      address: lab.hosts[0]!.address,
      netns: lab.hosts[0]!.netns,
      logFile: join(lab.dir, "etcd.log"),
    });
    const back = await waitFor(
      "every agent ready again",
      async () => (await phases()).every((p) => p === "ready"),
      30_000,
      50,
    );
    t.diagnostic(`etcd started again: every agent ready after ${back} ms`);
    for (const h of lab.hosts) assert.equal((await readStatus(h.runDir))?.lastError, undefined, h.name);
    assert.equal(await ipamState(), ipam, "IPAM unchanged");
    // Their watches resumed: a change reaches every agent again.
    await lab.calicoctl(["apply", "-f", "-"], bgpPeer("10.99.0.251"));
    await waitFor(
      "the new peering in every bird.conf",
      async () =>
        (await Promise.all(lab.hosts.map((h) => readFile(runFiles(h.runDir).birdConf, "utf8")))).every((c) =>
          c.includes("10.99.0.251"),
        ),
      10_000,
    );
    await lab.calicoctl(["delete", "-f", "-"], bgpPeer("10.99.0.251"));
    assert.deepEqual(await lab.pingMatrix(), []);
  });
});
