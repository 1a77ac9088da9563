import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  alive,
  cmdline,
  processState,
  readPidFile,
  spawnDetached,
  stopProcess,
  waitGone,
  writePidFile,
} from "../../../src/supervise/process.ts";

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "process-test-"));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("a pid file round-trips; a missing, garbled or init's pid is none", async () => {
  await withDir(async (dir) => {
    const file = join(dir, "x.pid");
    assert.equal(await readPidFile(file), null);
    await writePidFile(file, 4242);
    assert.equal(await readFile(file, "utf8"), "4242\n");
    assert.equal(await readPidFile(file), 4242);
    await writeFile(file, "nope\n");
    assert.equal(await readPidFile(file), null);
    await writeFile(file, "1\n");
    assert.equal(await readPidFile(file), null);
  });
});

test("a detached daemon has its own group, logs to its file, and a stop ends it and its group", async () => {
  await withDir(async (dir) => {
    const log = join(dir, "d.log");
    // The shell ignores SIGTERM: the stop must fall back to SIGKILL after the grace time.
    const bg = join(dir, "bg.pid");
    const script = `trap '' TERM; sleep 30 & echo $! > ${bg}; echo started; wait`;
    const child = spawnDetached(["sh", "-c", script], { logFile: log });
    const pid = child.pid!;
    const exited = new Promise((r) => child.once("exit", r));
    await waitFor(async () => (await readFile(log, "utf8")).includes("started"));
    assert.equal(alive(pid), true);
    assert.equal(await processState(pid), "alive");
    assert.deepEqual((await cmdline(pid)).slice(0, 2), ["sh", "-c"]);
    const t = Date.now();
    await stopProcess(pid, { graceMs: 300 });
    await exited;
    assert.ok(Date.now() - t >= 300, "SIGTERM was ignored: SIGKILL came after the grace time");
    assert.equal(await waitGone(pid, 1000), true);
    assert.deepEqual(await cmdline(pid), []);
    const orphan = (await readPidFile(bg))!;
    assert.equal(await waitGone(orphan, 1000), true, "its child in the group went with it");
  });
});

test("stopping a process that already ended returns at once", async () => {
  await withDir(async (dir) => {
    const child = spawnDetached(["true"], { logFile: join(dir, "t.log") });
    await new Promise((r) => child.once("exit", r));
    const t = Date.now();
    await stopProcess(child.pid!, { graceMs: 5000 });
    assert.ok(Date.now() - t < 1000);
    assert.equal(await processState(child.pid!), "gone");
  });
});

async function waitFor(ok: () => Promise<boolean>, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await ok().catch(() => false))) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}
