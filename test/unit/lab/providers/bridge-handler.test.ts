import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { diffInputs } from "../../../../src/lab/providers/handler.ts";
import { makeBridgeHandler, type BridgeEffects } from "../../../../src/lab/providers/bridge-handler.ts";
import { Calls, boom } from "./fakes.ts";

function links(calls: Calls, present = new Set<string>()): BridgeEffects {
  return {
    createBridge: async (netns, name, mtu) => {
      calls.note("add", netns, name, mtu);
      present.add(`${netns}/${name}`);
    },
    deleteLink: async (netns, name) => {
      calls.note("del", netns, name);
      present.delete(`${netns}/${name}`);
    },
    linkExists: async (netns, name) => present.has(`${netns}/${name}`),
    setMtu: async (netns, name, mtu) => calls.note("mtu", netns, name, mtu),
  };
}

const br0 = { netns: "lab-underlay", name: "br0", mtu: 1500 };

describe("the bridge handler", () => {
  it("replaces on another namespace or name; a new MTU is set in place", async () => {
    const calls = new Calls();
    const h = makeBridgeHandler(links(calls));
    assert.deepEqual(diffInputs(h.replaceOn, br0, { ...br0, name: "br1" }).replaces, ["name"]);
    assert.deepEqual(diffInputs(h.replaceOn, br0, { ...br0, mtu: 9000 }).replaces, []);
    await h.update!("x", br0, { ...br0, mtu: 9000 });
    assert.deepEqual(calls.lines, ["mtu lab-underlay br0 9000"]);
  });

  it("removes a half-made bridge when creating it fails, and rethrows", async () => {
    const calls = new Calls();
    const h = makeBridgeHandler({ ...links(calls), createBridge: boom("ip link add") });
    await assert.rejects(h.create(br0), /ip link add failed/);
    assert.deepEqual(calls.lines, ["del lab-underlay br0"]);
  });

  it("reads a missing bridge as gone, and deleting one is not an error", async () => {
    const calls = new Calls();
    const h = makeBridgeHandler({ ...links(calls), deleteLink: boom("ip link del") });
    assert.equal(await h.read("x", br0), undefined);
    await h.delete("x", br0);
    const made = new Set<string>();
    const ok = makeBridgeHandler(links(calls, made));
    assert.deepEqual((await ok.create(br0)).id, "lab-underlay/br0");
    assert.deepEqual(await ok.read("lab-underlay/br0", br0), br0);
  });
});
