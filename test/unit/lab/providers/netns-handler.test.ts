import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { diffInputs } from "../../../../src/lab/providers/handler.ts";
import { makeNetnsHandler } from "../../../../src/lab/providers/netns-handler.ts";
import { Calls, boom } from "./fakes.ts";

/** A kernel of recorded namespaces: `present` holds those that exist, with their forwarding. */
function kernel(present: Record<string, boolean> = {}) {
  const calls = new Calls();
  const fx = {
    exists: async ({ name }: { name: string }) => name in present,
    create: async ({ name }: { name: string }) => {
      calls.note("create", name);
      present[name] = false;
    },
    destroy: async ({ name }: { name: string }) => {
      calls.note("destroy", name);
      delete present[name];
    },
    setForwarding: async ({ name }: { name: string }, on: boolean) => {
      calls.note("forwarding", name, on);
      present[name] = on;
    },
    forwarding: async ({ name }: { name: string }) => present[name] === true,
  };
  return { calls, fx, present };
}

describe("the netns handler", () => {
  it("replaces on a new name; forwarding changes in place", () => {
    const h = makeNetnsHandler(kernel().fx);
    assert.deepEqual(diffInputs(h.replaceOn, { name: "a" }, { name: "b" }).replaces, ["name"]);
    const d = diffInputs(h.replaceOn, { name: "a" }, { name: "a", forwarding: true });
    assert.deepEqual([d.changes, d.replaces], [true, []]);
  });

  it("refuses a namespace that exists, and makes nothing", async () => {
    const k = kernel({ "lab-a": false });
    await assert.rejects(
      makeNetnsHandler(k.fx).create({ name: "lab-a" }),
      /already exists.*ip netns delete lab-a/s,
    );
    assert.deepEqual(k.calls.lines, []);
  });

  it("undoes the namespace when forwarding cannot be set, and rethrows", async () => {
    const k = kernel();
    const h = makeNetnsHandler({ ...k.fx, setForwarding: boom("sysctl") });
    await assert.rejects(h.create({ name: "lab-router", forwarding: true }), /sysctl failed/);
    assert.deepEqual(k.calls.lines, ["create lab-router", "destroy lab-router"]);
    assert.deepEqual(k.present, {});
  });

  it("reads what is there: gone is undefined, forwarding as the kernel has it", async () => {
    const k = kernel({ "lab-router": false });
    const h = makeNetnsHandler(k.fx);
    assert.equal(await h.read("lab-x", { name: "lab-x" }), undefined);
    assert.deepEqual(await h.read("lab-router", { name: "lab-router", forwarding: true }), {
      name: "lab-router",
      forwarding: false,
    });
    assert.deepEqual(
      await h.update!("lab-router", { name: "lab-router" }, { name: "lab-router", forwarding: true }),
      {
        name: "lab-router",
        forwarding: true,
      },
    );
    assert.equal(k.present["lab-router"], true);
  });
});
