// scripts/verify and scripts/compare, their pure parts: stack config + outputs → plan and pods,
// argument parsing, the verify summary, the pair compare measures.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { choosePair, parseCompareArgs } from "../../../src/cli/compare.ts";
import { rawConfig, stackInfoFrom, StackNotUpError } from "../../../src/cli/stack-info.ts";
import { formatVerifySummary, parseVerifyArgs } from "../../../src/cli/verify.ts";
import type { LabReport } from "../../../src/verify/lab.ts";

// `pulumi config --json --stack bgp`, as the CLI prints it (objects twice: as JSON text and as objectValue).
const CONFIG = {
  "calico-lab:hosts": {
    value:
      '[{"address":"192.168.19.165","name":"master"},{"address":"192.168.19.166","labels":{"worker":"no-1"},"name":"worker-1"},{"address":"192.168.19.167","labels":{"worker":"no-2"},"name":"worker-2"}]',
    objectValue: [
      { address: "192.168.19.165", name: "master" },
      { address: "192.168.19.166", labels: { worker: "no-1" }, name: "worker-1" },
      { address: "192.168.19.167", labels: { worker: "no-2" }, name: "worker-2" },
    ],
    secret: false,
  },
  "calico-lab:mode": { value: "bgp", secret: false },
  "calico-lab:podCidr": { value: "10.244.0.0/16", secret: false },
  "calico-lab:underlayCidr": { value: "192.168.19.0/24", secret: false },
};
const OUTPUTS = {
  mode: "bgp",
  hosts: {
    master: { address: "192.168.19.165/24", namespace: "bgp-master" },
    "worker-1": { address: "192.168.19.166/24", namespace: "bgp-worker-1" },
    "worker-2": { address: "192.168.19.167/24", namespace: "bgp-worker-2" },
  },
  pods: {
    "busybox-1": { host: "worker-1", ip: "10.244.139.64", namespace: "bgp-busybox-1" },
    "busybox-2": { host: "worker-2", ip: "10.244.93.1", namespace: "bgp-busybox-2" },
    "busybox-3": { host: "worker-1", ip: "10.244.139.65", namespace: "bgp-busybox-3" },
    echo: { host: "worker-2", ip: "10.244.93.0", namespace: "bgp-echo" },
  },
};

describe("stack-info: config and outputs → plan and running pods", () => {
  it("reads objects and plain strings as the program does", () => {
    const { raw, keys } = rawConfig({
      ...CONFIG,
      "calico-lab:mtu": { value: "9000" },
      "other:key": { value: "x" },
    });
    assert.equal(raw.mode, "bgp");
    assert.equal(raw.mtu, 9000);
    assert.equal((raw.hosts as unknown[]).length, 3);
    assert.ok(!("key" in raw));
    assert.ok(keys.includes("other:key"));
  });
  it("plans the lab and takes the pods' addresses from the outputs", () => {
    const info = stackInfoFrom("bgp", CONFIG, OUTPUTS);
    assert.equal(info.plan.mode, "bgp");
    assert.deepEqual(
      info.plan.hosts.map((h) => h.netns),
      ["bgp-master", "bgp-worker-1", "bgp-worker-2"],
    );
    assert.deepEqual(info.pods, [
      { name: "busybox-1", ip: "10.244.139.64", host: "worker-1", server: false },
      { name: "busybox-2", ip: "10.244.93.1", host: "worker-2", server: false },
      { name: "busybox-3", ip: "10.244.139.65", host: "worker-1", server: false },
      { name: "echo", ip: "10.244.93.0", host: "worker-2", server: true },
    ]);
    assert.match(info.runDir, /\/\.lab\/bgp$/);
  });
  it("no outputs, or pods missing from them: not up, and says how to bring it up", () => {
    assert.throws(
      () => stackInfoFrom("bgp", CONFIG, {}),
      (e: Error) => e instanceof StackNotUpError && /bash scripts\/lab-up bgp/.test(e.message),
    );
    const { echo: _echo, ...three } = OUTPUTS.pods;
    assert.throws(() => stackInfoFrom("bgp", CONFIG, { ...OUTPUTS, pods: three }), /lack pod\(s\) echo/);
  });
  it("a config that does not parse lists its problems", () => {
    assert.throws(
      () => stackInfoFrom("bgp", { ...CONFIG, "calico-lab:mode": { value: "fast" } }, OUTPUTS),
      /calico-lab:mode = "fast": unknown mode/,
    );
  });
});

describe("verify command", () => {
  it("arguments: default stack bgp, --json, --deadline-ms", () => {
    assert.deepEqual(parseVerifyArgs([]), { stack: "bgp", json: false, deadlineMs: 10_000 });
    assert.deepEqual(parseVerifyArgs(["vxlan", "--json", "--deadline-ms", "3000"]), {
      stack: "vxlan",
      json: true,
      deadlineMs: 3000,
    });
    assert.throws(() => parseVerifyArgs(["a", "b"]), /one stack at a time/);
    assert.throws(() => parseVerifyArgs(["--fast"]), /unknown option --fast/);
  });
  it("summary: counts per category, failures with expected and seen, the capture", () => {
    const report: LabReport = {
      stack: "bgp",
      mode: "bgp",
      ok: false,
      checks: [
        { category: "underlay", name: "u1", ok: true, expected: "reply", seen: "reply in 0.1 ms" },
        {
          category: "pod-pod",
          name: "busybox-1 (worker-1) -> busybox-2 (worker-2) 10.244.93.1",
          ok: false,
          expected: "an ICMP echo reply",
          seen: "no reply after 3 attempts: 100% packet loss",
          crossNode: true,
        },
        { category: "pod-pod", name: "p2", ok: true, expected: "x", seen: "y" },
      ],
      capture: {
        from: "busybox-1",
        to: "busybox-2",
        packet: { kind: "plain", srcMac: "aa:aa:aa:aa:aa:aa", dstMac: "bb:bb:bb:bb:bb:bb", line: "" },
      },
      bgp: {},
      routes: {},
      expectedRoutes: {},
      verifiedAt: "2026-01-01T00:00:00.000Z",
      durationMs: 4200,
    };
    const text = formatVerifySummary(report, { markdown: "/r.md", html: "/r.html" });
    assert.match(text, /^lab "bgp" \(bgp\): FAILED, 2 of 3 checks passed in 4\.2 s/);
    assert.match(text, /ok {3}underlay {5}1\/1/);
    assert.match(text, /FAIL pod-pod {6}1\/2 {2}\(1 cross-node\)/);
    assert.match(
      text,
      /- \[pod-pod\] busybox-1 \(worker-1\) -> busybox-2 \(worker-2\) 10\.244\.93\.1\n {4}expected: an ICMP echo reply\n {4}seen: {5}no reply/,
    );
    assert.match(text, /capture: busybox-1 -> busybox-2 on the underlay: plain ICMP between pod addresses/);
    assert.match(text, /reports: \/r\.md/);
  });
});

describe("compare command", () => {
  it("arguments: defaults bgp vxlan (not explicit), named stacks explicit", () => {
    assert.deepEqual(parseCompareArgs([]), { stacks: ["bgp", "vxlan"], explicit: false, json: false });
    assert.deepEqual(parseCompareArgs(["rr", "--json", "rr"]), {
      stacks: ["rr"],
      explicit: true,
      json: true,
    });
    assert.throws(() => parseCompareArgs(["-x"]), /unknown option/);
  });
  it("measures to the echo server from a pod on another node", () => {
    const info = stackInfoFrom("bgp", CONFIG, OUTPUTS);
    const pair = choosePair(info);
    assert.equal(pair?.server.name, "echo");
    assert.equal(pair?.client.host, "worker-1");
    assert.equal(choosePair({ pods: info.pods.filter((p) => p.host === "worker-1") }), undefined);
  });
});
