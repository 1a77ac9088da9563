// The fault bench's and tests' own arithmetic: ping parsing, lost probes, IPAM verdicts, daemon matching.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lossOf, parsePingReply, parseTransmitted, type PingReply } from "../../support/faults-loss.ts";
import {
  bgpSessions,
  blockAllocations,
  ipamVerdict,
  isDaemonArgv,
  nodeScript,
} from "../../support/faults-lab.ts";

/** Replies to probes 1..n every 50 ms except `lost`, 0.2 ms round trip. */
function replies(n: number, lost: ReadonlySet<number>, interval = 50): PingReply[] {
  const out: PingReply[] = [];
  for (let s = 1; s <= n; s++)
    if (!lost.has(s)) out.push({ seq: s, at: 1_000_000 + s * interval + 0.2, rttMs: 0.2 });
  return out;
}

describe("ping parsing", () => {
  it("reads a -D reply line, ignores DUP!, errors and the summary", () => {
    assert.deepEqual(
      parsePingReply("[1764625541.123456] 64 bytes from 10.244.93.1: icmp_seq=12 ttl=62 time=0.159 ms"),
      { at: 1764625541123, seq: 12, rttMs: 0.159 },
    );
    assert.equal(
      parsePingReply("[1764625541.1] 64 bytes from 10.244.93.1: icmp_seq=12 ttl=62 time=0.2 ms (DUP!)"),
      null,
    );
    assert.equal(
      parsePingReply("[1764625541.1] From 10.244.139.64 icmp_seq=3 Destination Host Unreachable"),
      null,
    );
    assert.equal(parsePingReply("PING 10.244.93.1 (10.244.93.1) 56(84) bytes of data."), null);
    assert.equal(
      parseTransmitted("--- x ping statistics ---\n120 packets transmitted, 110 received, 8% packet loss"),
      120,
    );
    assert.equal(parseTransmitted("nothing"), null);
  });
});

describe("lost probes", () => {
  it("nothing lost: 0 ms", () => {
    const l = lossOf(replies(100, new Set()), 100, 50);
    assert.equal(l.lostProbes, 0);
    assert.equal(l.lostMs, 0);
    assert.equal(l.longestGapMs, 0);
    assert.equal(l.ongoing, false);
  });
  it("a 500 ms outage (10 probes) reads 500 ms, the gap too", () => {
    const lost = new Set([41, 42, 43, 44, 45, 46, 47, 48, 49, 50]);
    const l = lossOf(replies(100, lost), 100, 50);
    assert.equal(l.lostProbes, 10);
    assert.equal(l.lostMs, 500);
    assert.equal(l.longestGapMs, 500);
  });
  it("counts only from the fault's first probe on", () => {
    const l = lossOf(replies(100, new Set([2, 3, 60])), 100, 50, { fromSeq: 10 });
    assert.equal(l.lostProbes, 1);
    assert.equal(l.probes, 91);
  });
  it("an outage right after the baseline: the gap from the last baseline reply counts", () => {
    const l = lossOf(replies(40, new Set([11, 12, 13, 14, 15])), 40, 50, { fromSeq: 11 });
    assert.equal(l.lostProbes, 5);
    assert.equal(l.longestGapMs, 250);
  });
  it("the probes in flight when ping stops are not lost; a longer silence is, and is ongoing", () => {
    assert.equal(lossOf(replies(97, new Set()), 100, 50).lostProbes, 0);
    const l = lossOf(replies(80, new Set()), 100, 50);
    assert.equal(l.ongoing, true);
    assert.equal(l.lostProbes, 20);
    assert.equal(lossOf([], 50, 50).lostProbes, 50);
  });
  it("a stretched interval (load) scales the lost time", () => {
    const l = lossOf(replies(100, new Set([50, 51]), 60), 100, 50);
    assert.equal(l.intervalMs, 60);
    assert.equal(l.lostMs, 120);
  });
});

describe("IPAM verdict", () => {
  const block = {
    cidr: "10.244.139.64/26",
    allocations: [0, 1, null, 2, ...Array(60).fill(null)],
    attributes: [
      { handle_id: "k8s-pod-network.s-busybox-1" },
      { handle_id: "k8s-pod-network.s-busybox-3" },
      { handle_id: "ipip-tunnel-addr-worker-1" },
    ],
  };
  it("addresses of a block: base + index, with their handles", () => {
    assert.deepEqual(
      blockAllocations(block).map((a) => `${a.ip} ${a.handle}`),
      [
        "10.244.139.64 k8s-pod-network.s-busybox-1",
        "10.244.139.65 k8s-pod-network.s-busybox-3",
        "10.244.139.67 ipip-tunnel-addr-worker-1",
      ],
    );
  });
  it("pods at their allocated addresses: clean", () => {
    const ips = { "busybox-1": "10.244.139.64", "busybox-3": "10.244.139.65" };
    assert.deepEqual(ipamVerdict("s", ips, ips, blockAllocations(block)), {
      duplicates: [],
      leaks: [],
      changed: [],
    });
  });
  it("a pod re-created at a new address leaks the old one and is reported as changed", () => {
    const before = { "busybox-1": "10.244.139.64", "busybox-3": "10.244.139.65" };
    const now = { "busybox-1": "10.244.139.64", "busybox-3": "10.244.139.66" };
    const allocs = [
      ...blockAllocations(block),
      { ip: "10.244.139.66", handle: "k8s-pod-network.s-busybox-3", block: block.cidr },
    ];
    const v = ipamVerdict("s", before, now, allocs);
    assert.equal(v.leaks.length, 1);
    assert.match(v.leaks[0]!, /10\.244\.139\.65/);
    assert.deepEqual(v.changed, ["busybox-3: 10.244.139.65 -> 10.244.139.66"]);
    assert.equal(v.duplicates.length, 1); // the handle holds two addresses
  });
  it("two pods on one address are duplicates", () => {
    const now = { "busybox-1": "10.244.139.64", "busybox-3": "10.244.139.64" };
    assert.equal(ipamVerdict("s", now, now, blockAllocations(block)).duplicates.length, 1);
  });
});

describe("finding the lab's daemons by command line", () => {
  it("the agent bundle, not a supervisor that names it", () => {
    assert.equal(
      nodeScript(["/usr/bin/node", "--enable-source-maps", "/r/dist/bin/agent.mjs", "--run-dir", "/x"]),
      "/r/dist/bin/agent.mjs",
    );
    assert.equal(
      nodeScript(["node", "--import", "/r/tsx/loader.mjs", "/r/src/agent/daemon/main.ts"]),
      "/r/src/agent/daemon/main.ts",
    );
    assert.ok(isDaemonArgv("agent", ["/usr/bin/node", "/r/dist/bin/agent.mjs", "--run-dir", "/x"]));
    assert.ok(
      !isDaemonArgv("agent", ["/usr/bin/node", "/r/dist/bin/supervise.mjs", "/r/dist/bin/agent.mjs"]),
    );
    // The supervisor (a Go executable) names the daemon it runs in its own argv: it is not the daemon.
    for (const kind of ["agent", "echo", "bird", "etcd"] as const)
      assert.ok(
        !isDaemonArgv(kind, ["/r/dist/bin/supervise", "--name", kind, "--run-dir", "/x", "--", "ip", "netns", "exec", "h1", "/usr/bin/node", "/r/dist/bin/agent.mjs", "/usr/sbin/bird", "/usr/bin/etcd"]), // prettier-ignore
        kind,
      );
    assert.ok(isDaemonArgv("echo", ["/usr/bin/node", "/r/dist/bin/echo-server.mjs", "8080", "echo"]));
    assert.ok(isDaemonArgv("echo", ["/r/dist/bin/echo-server", "8080", "echo", "/r/.lab/x/"]));
    assert.ok(!isDaemonArgv("echo", ["/bin/echo", "8080"]));
    assert.ok(isDaemonArgv("bird", ["/usr/sbin/bird", "-f", "-c", "/x/bird.conf"]));
    assert.ok(!isDaemonArgv("bird", ["/usr/sbin/birdc", "-s", "/x/bird.ctl"]));
    assert.ok(isDaemonArgv("etcd", ["/usr/bin/etcd", "--name", "calico-lab"]));
  });
  it("BGP sessions from birdc show protocols", () => {
    const text = [
      "BIRD 2.0.12 ready.",
      "Name       Proto      Table      State  Since         Info",
      "device1    Device     ---        up     21:00:00.000",
      "Mesh_192_168_19_165 BGP        ---        up     21:00:01.000  Established",
      "Mesh_192_168_19_167 BGP        ---        start  21:00:01.000  Active        Socket: Connection refused",
    ].join("\n");
    assert.deepEqual(bgpSessions(text), { established: 1, total: 2 });
  });
});
