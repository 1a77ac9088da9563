// The resource graph under pulumi.runtime.setMocks: what `pulumi up` would register, without touching the machine.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

const registered: Registered[] = [];

async function installMocks(stack = "bgp") {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: { ...args.inputs, passed: 6, failed: 0, checks: [] } };
      },
      call(args) {
        return args.inputs;
      },
    },
    "calico-lab",
    stack,
    true,
  );
}

/** Runs the program and waits until every resource it made is registered (the outputs depend on all of them). */
async function runProgram(config: Record<string, string>) {
  registered.length = 0;
  for (const [k, v] of Object.entries(config)) pulumi.runtime.setConfig(k, v);
  const { main } = await import("../../../src/program.ts");
  const outputs = await main();
  await new Promise((resolve) => pulumi.output(outputs).apply(resolve));
  return outputs;
}

function ofType(suffix: string) {
  return registered.filter((r) => r.type.endsWith(suffix));
}

describe("lab program (mocked engine)", () => {
  before(() => installMocks("bgp"));

  it("registers a switch namespace, a bridge, and per host a namespace and an underlay port", async () => {
    await runProgram({ "calico-lab:mode": "bgp" });
    const netns = ofType("calico-lab:NetworkNamespace").map((r) => r.inputs.name);
    assert.deepEqual(netns.sort(), ["bgp-master", "bgp-underlay", "bgp-worker-1", "bgp-worker-2"]);
    const bridges = ofType("calico-lab:Bridge");
    assert.equal(bridges.length, 1);
    assert.equal(bridges[0]!.inputs.netns, "bgp-underlay");
    const ports = ofType("calico-lab:UnderlayPort");
    assert.deepEqual(ports.map((p) => p.inputs.cidr).sort(), [
      "192.168.19.165/24",
      "192.168.19.166/24",
      "192.168.19.167/24",
    ]);
    assert.ok(ports.every((p) => p.inputs.switchNetns === "bgp-underlay" && p.inputs.ifname === "eth0"));
    assert.equal(ofType("calico-lab:Verification").length, 1);
    assert.deepEqual(
      ofType("calico-lab:lab:Host")
        .map((r) => r.name)
        .sort(),
      ["master", "worker-1", "worker-2"],
    );
  });

  it("rejects bad config before registering any resource, listing every problem", async () => {
    await assert.rejects(
      runProgram({ "calico-lab:mode": "fast", "calico-lab:podCidr": "192.168.0.0/16" }),
      (e: Error) => {
        assert.match(e.message, /calico-lab:mode = "fast": unknown mode/);
        assert.match(
          e.message,
          /calico-lab:podCidr = "192.168.0.0\/16": the pod network overlaps the underlay/,
        );
        return true;
      },
    );
    assert.equal(registered.filter((r) => r.type.includes("calico-lab")).length, 0);
  });
});
