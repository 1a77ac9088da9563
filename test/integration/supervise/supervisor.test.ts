// The service supervisor with real processes (shell stand-ins; no root needed): kill -9 → started again
// within the backoff, its state file truthful meanwhile, what the dead service left in its process group
// killed (no orphan), a daemon of its own session left alone (as the agent's BIRD), the service's status
// file corrected, quick deaths backed off; a stop leaves no process and no file but the log.
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { startSupervised, stopSupervised, supervisorOf } from "../../../src/supervise/control.ts";
import { alive } from "../../../src/supervise/process.ts";
import { readSuperviseStatus } from "../../../src/supervise/supervisor.ts";
import type { SuperviseStatus } from "../../../src/supervise/state.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | false> | T | false, ms = 5000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== false) return v;
    if (Date.now() - t0 > ms) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Pids of processes with `needle` in their command line (as one argument of it, when `exact`). */
async function processesWith(needle: string, exact = false): Promise<number[]> {
  const pids: number[] = [];
  for (const e of await readdir("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    const cmd = await readFile(`/proc/${e}/cmdline`, "utf8").catch(() => "");
    const has = exact ? cmd.split("\0").includes(needle) : cmd.includes(needle);
    if (has && alive(Number(e))) pids.push(Number(e));
  }
  return pids;
}

describe("service supervisor (real processes)", { timeout: 60_000 }, () => {
  const dirs: string[] = [];
  const scratch = async () => {
    const d = await mkdtemp(join(tmpdir(), "cl-sv-"));
    dirs.push(d);
    return d;
  };
  after(async () => {
    for (const d of dirs) {
      for (const n of ["svc", "loop", "st"]) await stopSupervised(d, n, 3000);
      for (const pid of await processesWith(d)) process.kill(pid, "SIGKILL");
      await rm(d, { recursive: true, force: true });
    }
  });

  it("kill -9: restarting at once (no pid, why), running again within the backoff; the group's orphan is killed, a daemon of its own session lives", async () => {
    const dir = await scratch();
    // The service leaves a child in its group (as the agent's `ip -o monitor`) and one in a session of
    // its own (as the agent's BIRD); the run dir in their argv finds them.
    for (const n of ["group", "session", "main"]) await writeFile(join(dir, `${n}.sh`), "sleep 300\n");
    const argv = ["sh", "-c", `sh ${dir}/group.sh & setsid sh ${dir}/session.sh & exec sh ${dir}/main.sh`];
    await startSupervised({ name: "svc", runDir: dir, argv, graceMs: 1000 });
    const first = await until("the first start", async () => {
      const s = await readSuperviseStatus(dir, "svc");
      return s?.state === "running" && (await processesWith(`${dir}/group.sh`, true)).length === 1
        ? s
        : false;
    });
    assert.equal(first.starts, 1);
    assert.equal((await readFile(join(dir, "svc.pid"), "utf8")).trim(), String(first.pid));
    const orphan = (await processesWith(`${dir}/group.sh`, true))[0]!;
    const own = (await processesWith(`${dir}/session.sh`, true))[0]!;

    const t0 = Date.now();
    process.kill(first.pid!, "SIGKILL");
    const down = await until("state restarting", async () => {
      const s = await readSuperviseStatus(dir, "svc");
      return s?.state === "restarting" ? s : false;
    });
    assert.equal(down.pid, undefined, "a dead service has no pid in its state");
    assert.equal(down.lastExit?.signal, "SIGKILL");
    assert.equal(down.restartInMs, 100, "a run under 10 s: the backoff's first step");
    await until("the orphan in its group gone", () => !alive(orphan), 2000);
    const again = await until("running again", async () => {
      const s = await readSuperviseStatus(dir, "svc");
      return s?.state === "running" && s.pid !== first.pid ? s : false;
    });
    const took = Date.now() - t0;
    assert.ok(took < 1000, `restarted after ${took} ms (backoff 100 ms)`);
    assert.equal(again.starts, 2);
    assert.ok(alive(again.pid!));
    assert.ok(alive(own), "a daemon in a session of its own outlives the service");
    process.kill(-own, "SIGKILL"); // its session's group: the shell and its sleep
    assert.match(
      await readFile(join(dir, "svc.log"), "utf8"),
      /supervise svc: killed by SIGKILL after \d+\.\d s: starting again in 100 ms/,
    );
  });

  it("quick deaths back off: 0.1 s, 0.2 s, 0.4 s, …", async () => {
    const dir = await scratch();
    await startSupervised({ name: "loop", runDir: dir, argv: ["sh", "-c", "exit 3"], graceMs: 0 });
    const seen: number[] = [];
    await until("three restarts", async () => {
      const s = await readSuperviseStatus(dir, "loop");
      if (s?.state === "restarting" && s.restartInMs !== undefined && seen.at(-1) !== s.restartInMs)
        seen.push(s.restartInMs);
      return seen.length >= 3;
    });
    assert.deepEqual(seen.slice(0, 3), [100, 200, 400]);
    const s = (await readSuperviseStatus(dir, "loop"))!;
    assert.equal(s.lastExit?.code, 3);
  });

  it("a final exit code (the agent's refusal): not started again, stopped, the supervisor gone", async () => {
    const dir = await scratch();
    await startSupervised({
      name: "loop",
      runDir: dir,
      argv: ["sh", "-c", "exit 3"],
      graceMs: 0,
      finalExitCodes: [3],
    });
    const s = await until("stopped", async () => {
      const st = await readSuperviseStatus(dir, "loop");
      return st?.state === "stopped" ? st : false;
    });
    assert.equal(s.starts, 1);
    assert.equal(s.lastExit?.code, 3);
    await until("the supervisor gone", () => !alive(s.supervisorPid));
    assert.equal((await readSuperviseStatus(dir, "loop"))?.starts, 1, "never started again");
    assert.match(
      await readFile(join(dir, "loop.log"), "utf8"),
      /exited with code 3: a final exit code, not starting it again/,
    );
  });

  it("a dead service's status file stops saying ready; stop leaves nothing running and only the log", async () => {
    const dir = await scratch();
    const status = join(dir, "status.json");
    // A service that says it is ready, then serves.
    await writeFile(join(dir, "st.sh"), `echo '{"phase":"ready","node":"n1"}' > ${status}\nsleep 300\n`);
    const argv = ["sh", join(dir, "st.sh")];
    await startSupervised({ name: "st", runDir: dir, argv, graceMs: 500, statusJson: status });
    const s = await until("running and ready", async () => {
      const st = await readSuperviseStatus(dir, "st");
      const body = await readFile(status, "utf8").catch(() => "");
      return st?.state === "running" && body.includes("ready") ? st : false;
    });
    // Until the new start writes "ready" again (after the 100 ms backoff), the file says why it is not.
    process.kill(s.pid!, "SIGKILL");
    const marked = await until(
      "status.json corrected",
      async () => {
        const j = JSON.parse(await readFile(status, "utf8")) as {
          phase: string;
          error?: string;
          node: string;
        };
        return j.phase !== "ready" ? j : false;
      },
      2000,
    );
    assert.equal(marked.phase, "restarting");
    assert.equal(marked.node, "n1", "the rest of the service's status is kept");
    assert.match(
      marked.error ?? "",
      /^st restarting \(killed by SIGKILL after \d+\.\d s; next start in 0\.1 s\)$/,
    );

    await until("running again", async () => (await readSuperviseStatus(dir, "st"))?.state === "running");
    const sup = (await supervisorOf(dir, "st"))!;
    const t0 = Date.now();
    assert.equal(await stopSupervised(dir, "st", 3000), true);
    assert.ok(Date.now() - t0 < 1500, `stopped in ${Date.now() - t0} ms`);
    assert.ok(!alive(sup.pid), "the supervisor is gone");
    assert.deepEqual(await processesWith(dir), [], "nothing of the service runs");
    const left = (await readSuperviseStatus(dir, "st")) as SuperviseStatus;
    assert.equal(left.state, "stopped");
    await assert.rejects(readFile(join(dir, "st.pid"), "utf8"), "no pid file once stopped");
    assert.equal(await supervisorOf(dir, "st"), null);
    assert.equal(await stopSupervised(dir, "st", 3000), false, "stopping again: nothing to stop");
  });
});
