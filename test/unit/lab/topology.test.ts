import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseLabConfig } from "../../../src/config/lab-config.ts";
import { planLab, underlayPingPairs } from "../../../src/lab/topology.ts";

describe("lab plan", () => {
  const r = parseLabConfig("bgp", {});
  assert.ok(r.ok);
  const plan = planLab(r.config);

  it("names every namespace after the stack", () => {
    assert.equal(plan.switchNetns, "bgp-underlay");
    assert.deepEqual(
      plan.hosts.map((h) => h.netns),
      ["bgp-master", "bgp-worker-1", "bgp-worker-2"],
    );
  });

  it("gives each host eth0 with its underlay address and a switch port named after it", () => {
    assert.deepEqual(plan.hosts[1], {
      name: "worker-1",
      netns: "bgp-worker-1",
      ifname: "eth0",
      port: "worker-1",
      address: "192.168.19.166",
      cidr: "192.168.19.166/24",
      labels: { worker: "no-1" },
    });
  });

  it("pings every ordered pair of distinct hosts", () => {
    const pairs = underlayPingPairs(plan);
    assert.equal(pairs.length, 6);
    assert.ok(pairs.every((p) => p.from !== p.to));
    assert.deepEqual(pairs[0], {
      from: "master",
      fromNetns: "bgp-master",
      to: "worker-1",
      address: "192.168.19.166",
    });
  });
});
