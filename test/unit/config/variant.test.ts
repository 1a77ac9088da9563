// The variant stage of the config reader: a stack's Calico variant, read in the same pass as its topology,
// with etcd where the plan puts it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { labValues } from "../../../src/config/keys.ts";
import { readLabConfig } from "../../../src/config/read.ts";
import { planLab } from "../../../src/lab/topology.ts";

const REPO = join(import.meta.dirname, "..", "..", "..");

describe("the stack's variant", () => {
  it("the bgp stack file gives the bgp preset on the lab defaults, etcd on the master", () => {
    const doc = parse(readFileSync(join(REPO, "stacks", "Pulumi.bgp.yaml"), "utf8")) as {
      config: Record<string, unknown>;
    };
    const { raw, keys } = labValues(doc.config);
    assert.equal(raw.mode, "bgp");
    const r = readLabConfig("bgp", raw, keys, doc.config);
    assert.ok(r.ok);
    assert.equal(r.variant.ipipMode, "Never");
    assert.equal(r.variant.felixIpipEnabled, false);
    assert.deepEqual(r.variant.etcdEndpoints, ["http://192.168.19.165:2379"]);
  });

  it("takes values as text; mtu derives the pod MTU", () => {
    const r = readLabConfig("lab", { mode: "vxlan", mtu: "9000", blockSize: "24", natOutgoing: "false" });
    assert.ok(r.ok);
    assert.deepEqual(
      [r.variant.vethMtu, r.variant.vxlanMtu, r.variant.blockSize, r.variant.natOutgoing],
      [8950, 8950, 24, false],
    );
    assert.equal(r.network.underlayMtu, 9000);
    assert.equal(r.config.mtu, 9000);
    assert.deepEqual(r.variant.etcdEndpoints, ["http://192.168.19.165:2379"]);
  });

  it("reports every bad key, topology and variant alike", () => {
    const r = readLabConfig("lab", { mode: "gre", blockSize: "big", natOutgoing: "yes" });
    assert.equal(r.ok, false);
    if (!r.ok)
      assert.deepEqual(
        r.problems.map((p) => p.field),
        ["calico-lab:mode", "calico-lab:blockSize", "calico-lab:natOutgoing"],
      );
  });

  it("validates the result against the stack's network", () => {
    const r = readLabConfig("lab", { podCidr: "192.168.0.0/16" });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.problems[0]!.message, /overlaps the underlay/);
  });

  // Once etcd_endpoints named the host called "master" (or the first with an address) while the plan ran
  // etcd on the first host: these configurations pointed every agent at an address with no etcd.
  for (const [name, hosts] of [
    ["master is not the first host", ["worker-1", { name: "master", address: "192.168.19.10" }]],
    ["only a later host has an address", ["a", { name: "b", address: "192.168.19.10" }]],
    ["a host offset", ["a", "b"]],
  ] as const) {
    it(`names the plan's etcd host when ${name}`, () => {
      const r = readLabConfig("lab", { hosts, hostOffset: 20 });
      assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
      const plan = planLab(r.config);
      assert.deepEqual(r.variant.etcdEndpoints, [plan.etcd.endpoint]);
      assert.equal(plan.etcd.host, r.config.hosts[0]!.name);
      assert.equal(plan.etcd.endpoint, `http://${r.config.hosts[0]!.address}:2379`);
    });
  }
});
