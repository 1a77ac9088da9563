import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StatusWriter } from "../../../../src/agent/daemon/status-writer.ts";
import { readStatus } from "../../../../src/agent/daemon/status.ts";

async function withWriter(
  body: (w: StatusWriter, dir: string, bird: { pid: number | null; restarts: number }) => Promise<void>,
) {
  const dir = await mkdtemp(join(tmpdir(), "status-writer-"));
  const bird = { pid: null as number | null, restarts: 0 };
  let passes = 0;
  const w = new StatusWriter({
    runDir: dir,
    node: "node-1",
    birdSocket: join(dir, "bird.ctl"),
    bird: () => bird,
    counters: () => ({ passes: ++passes, unchangedPasses: 0, ignoredEvents: 0, snapshotReads: 1 }),
    log: () => {},
  });
  try {
    await body(w, dir, bird);
  } finally {
    w.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test("each publish writes the whole status, BIRD's pid as it is at the time of the write", async () => {
  await withWriter(async (w, dir, bird) => {
    await w.publish({ phase: "starting" });
    let st = (await readStatus(dir))!;
    assert.equal(st.phase, "starting");
    assert.equal(st.node, "node-1");
    assert.equal(st.pid, process.pid);
    assert.equal(st.birdPid, undefined);
    bird.pid = 4242;
    bird.restarts = 1;
    w.note({ address: "10.99.0.11/24" });
    assert.equal((await readStatus(dir))!.address, undefined, "a note is not written by itself");
    await w.publish({ phase: "ready" });
    st = (await readStatus(dir))!;
    assert.deepEqual(
      [st.phase, st.address, st.birdPid, st.birdRestarts],
      ["ready", "10.99.0.11/24", 4242, 1],
    );
    bird.pid = null;
    await w.publish({ lastError: undefined });
    assert.equal((await readStatus(dir))!.birdPid, undefined, "BIRD gone: no pid");
  });
});

test("the counters are written at most once a second, and not after close", async () => {
  await withWriter(async (w, dir) => {
    await w.publish({ phase: "ready" });
    for (let i = 0; i < 5; i++) w.publishCounters();
    await new Promise((r) => setTimeout(r, 1100));
    await w.publish({});
    assert.equal((await readStatus(dir))!.reconcile?.passes, 1, "five asks, one write");
    w.close();
    w.publishCounters();
    await new Promise((r) => setTimeout(r, 1100));
    await w.publish({});
    assert.equal((await readStatus(dir))!.reconcile?.passes, 1);
  });
});
