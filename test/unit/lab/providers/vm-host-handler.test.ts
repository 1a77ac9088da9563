import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { diffInputs } from "../../../../src/lab/providers/handler.ts";
import { makeVmHostHandler, type VmHostInputs } from "../../../../src/lab/providers/vm-host-handler.ts";
import { Calls, boom } from "./fakes.ts";

const vm: VmHostInputs = {
  name: "master",
  switchNetns: "lab-underlay",
  bridge: "br0",
  tap: "master",
  mac: "52:54:00:ca:00:00",
  execPort: 7001,
  netns: "lab-master",
  cidr: "192.168.19.165/24",
  routes: [],
  mtu: 1500,
  runDir: "/w/.lab/lab/vm-master",
};

function qemu(calls: Calls, running = new Set<string>()) {
  return {
    create: async (s: VmHostInputs) => {
      calls.note("start", s.name);
      running.add(s.name);
    },
    destroy: async (s: VmHostInputs) => {
      calls.note("stop", s.name);
      running.delete(s.name);
    },
    exists: async (s: VmHostInputs) => running.has(s.name),
  };
}

describe("the VM host handler", () => {
  it("replaces the VM on any change of its wiring", () => {
    const h = makeVmHostHandler(qemu(new Calls()));
    for (const [k, v] of [
      ["mac", "52:54:00:ca:00:09"],
      ["execPort", 7009],
      ["cidr", "10.0.0.2/24"],
    ] as const)
      assert.deepEqual(diffInputs(h.replaceOn, vm, { ...vm, [k]: v }).replaces, [k]);
  });

  it("boots, reads and stops through its backend's driver; a VM gone reads as gone", async () => {
    const calls = new Calls();
    const h = makeVmHostHandler(qemu(calls));
    const { id, outs } = await h.create(vm);
    assert.equal(id, "lab-underlay/master");
    assert.deepEqual(await h.read(id, outs), vm);
    await h.delete(id, outs);
    assert.equal(await h.read(id, outs), undefined);
    assert.deepEqual(calls.lines, ["start master", "stop master"]);
  });

  it("rethrows a failed boot (the driver has undone it) and records no VM", async () => {
    const calls = new Calls();
    const h = makeVmHostHandler({ ...qemu(calls), create: boom("boot") });
    await assert.rejects(h.create(vm), /boot failed/);
    assert.equal(await h.read("x", vm), undefined);
  });
});
