// The UnderlayPort provider's read() and update() in real namespaces, as `pulumi up --refresh` calls them:
// a deleted default route, or the link set down (which drops it), reads as a diff, and the update that
// diff asks for puts it back in place. No Pulumi engine: the handler and the provider's diff directly.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { run } from "../../../src/effects/exec.ts";
import { createNetns } from "../../../src/effects/netns.ts";
import { createBridge } from "../../../src/effects/links.ts";
import { diff } from "../../../src/lab/providers/dispatch.ts";
import {
  underlayPortHandler,
  type UnderlayPortInputs,
  type UnderlayPortOutputs,
} from "../../../src/lab/providers/underlay-port-handler.ts";
import { isRoot, removeNetnsWithPrefix, runPrefix } from "../../support/netns-scope.ts";

const prefix = runPrefix("fu");
const inputs: UnderlayPortInputs = {
  netns: `${prefix}-h`,
  ifname: "eth0",
  switchNetns: `${prefix}-sw`,
  port: "h",
  bridge: "br0",
  cidr: "10.98.0.2/24",
  mtu: 1500,
  routes: [{ to: "default" }],
};

async function defaultRoute(): Promise<boolean> {
  const r = JSON.parse(
    await run(["ip", "-n", inputs.netns, "-j", "-4", "route", "show", "default"]),
  ) as unknown[];
  return r.length > 0;
}

/** refresh (read) → diff against the inputs → update, as `up --refresh` runs them. */
async function refreshAndUp(): Promise<{ read: UnderlayPortOutputs; changes: boolean }> {
  const read = (await underlayPortHandler.read("id", inputs))!;
  const d = await diff("underlayPort", "id", { ...read }, { ...inputs });
  assert.deepEqual(d.replaces, [], "nothing replaced");
  if (d.changes) await underlayPortHandler.update!("id", read, inputs);
  return { read, changes: d.changes };
}

describe(
  "UnderlayPort: refresh reads the default route and the link state",
  { skip: !isRoot() && "needs root" },
  () => {
    before(async () => {
      await createNetns(inputs.switchNetns);
      await createNetns(inputs.netns);
      await createBridge(inputs.switchNetns, "br0", 1500);
      await underlayPortHandler.create(inputs);
    });
    after(() => removeNetnsWithPrefix(prefix));

    it("in place: reads as the inputs, no diff", async () => {
      assert.ok(await defaultRoute());
      const { read, changes } = await refreshAndUp();
      assert.deepEqual(read, inputs);
      assert.equal(changes, false);
    });

    it("default route deleted: read without it, the update puts it back", async () => {
      await run(["ip", "-n", inputs.netns, "route", "del", "default"]);
      const { read, changes } = await refreshAndUp();
      assert.deepEqual(read.routes, []);
      assert.equal(changes, true);
      assert.ok(await defaultRoute(), "default route back");
      assert.deepEqual(await underlayPortHandler.read("id", inputs), inputs);
    });

    it("link set down (the kernel drops the default route): drift, the update sets it up with its route", async () => {
      await run(["ip", "-n", inputs.netns, "link", "set", "eth0", "down"]);
      const { read, changes } = await refreshAndUp();
      assert.deepEqual(read.drift, [`eth0 in ${inputs.netns} is down`]);
      assert.deepEqual(read.routes, []);
      assert.equal(changes, true);
      assert.ok(await defaultRoute(), "default route back");
      assert.deepEqual(await underlayPortHandler.read("id", inputs), inputs);
    });
  },
);
