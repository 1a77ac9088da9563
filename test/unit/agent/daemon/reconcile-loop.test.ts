import { test } from "node:test";
import assert from "node:assert/strict";
import { ReconcileLoop, type PassRequest } from "../../../../src/agent/daemon/reconcile-loop.ts";

const tick = () => new Promise((r) => setTimeout(r, 5));

/** A loop whose passes wait for `release`, recording what each was asked. */
function recorder(fail: (n: number) => boolean = () => false) {
  const asked: PassRequest[] = [];
  const errors: string[] = [];
  let active = 0;
  let maxActive = 0;
  let release: () => void = () => {};
  const loop = new ReconcileLoop({
    pass: async (r) => {
      asked.push(r);
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise<void>((ok) => (release = ok));
      active--;
      if (fail(asked.length)) throw new Error(`pass ${asked.length} failed`);
    },
    succeeded: async () => {},
    failed: async (m) => void errors.push(m),
  });
  return { loop, asked, errors, release: () => release(), maxActive: () => maxActive };
}

test("passes never overlap; requests during one accumulate into one more pass", async () => {
  const r = recorder();
  r.loop.kick();
  await tick();
  r.loop.kick();
  r.loop.kickDataplane();
  r.loop.kick(true);
  r.release();
  await tick();
  r.release();
  await r.loop.settled(1000);
  assert.deepEqual(r.asked, [
    { apply: false, full: false },
    { apply: true, full: true },
  ]);
  assert.equal(r.maxActive(), 1);
});

test("a kernel change applies without a full read", async () => {
  const r = recorder();
  r.loop.kickDataplane();
  await tick();
  r.release();
  await r.loop.settled(1000);
  assert.deepEqual(r.asked, [{ apply: true, full: false }]);
});

test("requests during the exclusive first pass run once resumed", async () => {
  const r = recorder();
  await r.loop.exclusive(async () => {
    r.loop.kick();
    r.loop.kickDataplane();
  });
  assert.equal(r.asked.length, 0, "nothing ran during the first pass");
  r.loop.resume();
  await tick();
  r.release();
  await r.loop.settled(1000);
  assert.deepEqual(r.asked, [{ apply: true, full: false }]);
});

test("a failed pass is reported and retried in full a second later; a halted loop runs nothing", async () => {
  const r = recorder((n) => n === 1);
  r.loop.kick();
  await tick();
  r.release();
  await r.loop.settled(1000);
  assert.deepEqual(r.errors, ["pass 1 failed"]);
  await new Promise((ok) => setTimeout(ok, 1100));
  assert.deepEqual(r.asked[1], { apply: true, full: true });
  r.release();
  await r.loop.settled(1000);
  r.loop.halt();
  r.loop.kick(true);
  await tick();
  assert.equal(r.asked.length, 2);
});
