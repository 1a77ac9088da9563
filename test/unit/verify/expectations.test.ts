import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { expectedEncapsulation, needsIpip } from "../../../src/verify/expectations.ts";
import { verdict } from "../../../src/verify/report.ts";
import type { LabReport } from "../../../src/verify/lab.ts";

describe("expectations per mode", () => {
  it("crosssubnet: plain inside a subnet, IP-in-IP across the router", () => {
    assert.equal(expectedEncapsulation("crosssubnet", true), "plain");
    assert.equal(expectedEncapsulation("crosssubnet", false), "ipip");
    assert.equal(expectedEncapsulation("ipip", true), "ipip");
    assert.equal(expectedEncapsulation("vxlan", false), "vxlan");
    assert.equal(expectedEncapsulation("bgp"), "plain");
  });

  it("knows which routes need the ipip module", () => {
    assert.ok(needsIpip("10.244.93.0/26 via 192.168.20.167 dev tunl0 proto bird onlink"));
    assert.ok(!needsIpip("10.244.93.0/26 via 192.168.19.166 dev eth0 proto bird"));
    assert.ok(!needsIpip("blackhole 10.244.139.64/26 proto bird"));
  });
});

describe("report verdict", () => {
  const base: Omit<LabReport, "checks"> = {
    stack: "cs",
    mode: "crosssubnet",
    ok: true,
    bgp: {},
    routes: {},
    expectedRoutes: {},
    verifiedAt: "2026-11-23T00:00:00.000Z",
    durationMs: 1234,
  };
  const c = { category: "pod-pod" as const, name: "a -> b", expected: "reply" };
  it("counts skipped checks apart from passed ones", () => {
    const report: LabReport = {
      ...base,
      checks: [
        { ...c, ok: true, seen: "reply in 0.1 ms" },
        { ...c, ok: true, seen: "skipped: no ipip", skipped: "no ipip" },
      ],
    };
    assert.equal(verdict(report), "1 of 2 checks passed, 1 skipped, in 1.2 s");
  });
  it("says nothing of skips when there are none", () => {
    const report: LabReport = { ...base, checks: [{ ...c, ok: true, seen: "reply" }] };
    assert.equal(verdict(report), "1 of 1 checks passed, in 1.2 s");
  });
});
