// BIRD supervision with a stand-in binary (a shell script that sleeps): restarted after it dies, with
// its pid file; stop() and close() end it; nothing restarts after close().
import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BirdSupervisor } from "../../../../src/agent/bird/supervisor.ts";
import { processState } from "../../../../src/supervise/process.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, fn: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!(await fn())) {
    if (Date.now() - t0 > ms) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe("BIRD supervisor", () => {
  let dir = "";
  let sup: BirdSupervisor;
  const logs: string[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "cl-birdsup-"));
    const fake = join(dir, "fake-bird");
    await writeFile(fake, "#!/bin/sh\nexec sleep 600\n");
    await chmod(fake, 0o755);
    sup = new BirdSupervisor(
      {
        config: join(dir, "bird.conf"),
        socket: join(dir, "bird.ctl"),
        pidFile: join(dir, "bird.pid"),
        logFile: join(dir, "bird.log"),
        binary: fake,
      },
      (m) => logs.push(m),
    );
  });
  after(async () => {
    await sup.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("starts BIRD and records its pid", async () => {
    assert.equal(await sup.start(), "started");
    const pid = sup.pid!;
    assert.ok(pid > 0);
    await until(
      "bird.pid",
      async () => (await readFile(join(dir, "bird.pid"), "utf8").catch(() => "")).trim() === String(pid),
    );
  });

  it("restarts it when it is killed, and logs why", async () => {
    const first = sup.pid!;
    process.kill(first, "SIGKILL");
    await until("a new pid", () => sup.pid !== null && sup.pid !== first);
    assert.equal(sup.restarts, 1);
    assert.ok(
      logs.some((l) => /exited \(code null, signal SIGKILL\): restarting/.test(l)),
      logs.join("\n"),
    );
  });

  it("stop() ends it without a restart; start() works again; close() is final", async () => {
    const pid = sup.pid!;
    await sup.stop();
    assert.equal(sup.running, false);
    await until("the process gone", async () => (await processState(pid)) !== "alive");
    await sleep(300);
    assert.equal(sup.running, false, "not restarted after stop()");
    assert.equal(await sup.start(), "started");
    const again = sup.pid!;
    await sup.close();
    await until("the process gone", async () => (await processState(again)) !== "alive");
    await assert.rejects(sup.start(), /closed/);
  });
});
