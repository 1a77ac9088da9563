// The supervisor's pure parts: the restart backoff, the state transitions of <name>.supervise.json,
// their one-line description, and the supervisor's command line both ways.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DEFAULT_BACKOFF,
  describe as describeState,
  exited,
  initialStatus,
  restartDelay,
  started,
  stopped,
} from "../../../src/supervise/state.ts";
import { parseSuperviseArgs, superviseArgv } from "../../../src/supervise/args.ts";

describe("restart backoff", () => {
  it("starts at 0.1 s and doubles with each quick death up to 5 s", () => {
    const delays: number[] = [];
    let d: number | null = null;
    for (let i = 0; i < 9; i++) delays.push((d = restartDelay(DEFAULT_BACKOFF, d, 50)));
    assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
  });
  it("starts again at 0.1 s after a run that was healthy (10 s or more)", () => {
    assert.equal(restartDelay(DEFAULT_BACKOFF, 5000, 10_000), 100);
    assert.equal(restartDelay(DEFAULT_BACKOFF, 5000, 9_999), 5000);
    assert.equal(restartDelay(DEFAULT_BACKOFF, 800, Infinity), 100);
  });
  it("follows another policy as given", () => {
    const p = { initialMs: 50, maxMs: 120, healthyMs: 1000 };
    assert.deepEqual(
      [restartDelay(p, null, 0), restartDelay(p, 50, 0), restartDelay(p, 100, 0)],
      [50, 100, 120],
    );
  });
});

describe("supervise state", () => {
  const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
  it("goes running → restarting → running → stopped, counting starts and keeping the last exit", () => {
    let s = initialStatus("etcd", 4242, t(0));
    assert.equal(s.state, "restarting");
    assert.equal(s.starts, 0);
    s = started(s, 100, t(1));
    assert.deepEqual(s, {
      name: "etcd",
      supervisorPid: 4242,
      state: "running",
      pid: 100,
      starts: 1,
      since: t(1).toISOString(),
    });
    assert.equal(describeState(s), "etcd running (pid 100, start 1)");
    const exit = { code: null, signal: "SIGKILL", ranMs: 12_345, at: t(13).toISOString() };
    s = exited(s, exit, 100, t(13));
    assert.equal(s.state, "restarting");
    assert.equal(s.pid, undefined, "a dead service has no pid");
    assert.deepEqual(s.lastExit, exit);
    assert.equal(describeState(s), "etcd restarting (killed by SIGKILL after 12.3 s; next start in 0.1 s)");
    s = started(s, 101, t(14));
    assert.equal(s.starts, 2);
    assert.equal(s.restartInMs, undefined);
    assert.deepEqual(s.lastExit, exit, "the last exit stays known while running again");
    s = stopped(s, t(20), { code: 0, signal: null, ranMs: 6000, at: t(20).toISOString() });
    assert.equal(s.state, "stopped");
    assert.equal(s.pid, undefined);
    assert.equal(describeState(s), "etcd stopped (exited with code 0 after 6.0 s)");
  });
  it("describes a service that never started", () => {
    assert.equal(
      describeState(initialStatus("echo-a", 1, t(0))),
      "echo-a restarting (not started yet; next start in 0.0 s)",
    );
  });
});

describe("supervisor command line", () => {
  it("reproduces what the launcher passed, the service's argv untouched", () => {
    const spec = {
      name: "agent",
      runDir: "/lab/run/worker-1",
      graceMs: 8000,
      statusJson: "/lab/run/worker-1/status.json",
      cwd: "/repo",
      finalExitCodes: [3, 4],
      argv: ["ip", "netns", "exec", "w1", "node", "agent.mjs", "--", "--name", "x"],
    };
    assert.deepEqual(parseSuperviseArgs(superviseArgv(spec)), spec);
    const plain = { name: "etcd", runDir: "/r", graceMs: 0, argv: ["etcd"] };
    assert.deepEqual(parseSuperviseArgs(superviseArgv(plain)), plain);
  });
  it("refuses what it does not understand, saying what is wrong", () => {
    assert.throws(() => parseSuperviseArgs(["--name", "a", "--run-dir", "/r"]), /usage: supervise/);
    assert.throws(() => parseSuperviseArgs(["--name", "a", "--", "x"]), /--name and --run-dir are required/);
    assert.throws(
      () => parseSuperviseArgs(["--nme", "a", "--run-dir", "/r", "--", "x"]),
      /unknown option --nme/,
    );
    assert.throws(
      () => parseSuperviseArgs(["--name", "a", "--run-dir", "/r", "--grace-ms", "-1", "--", "x"]),
      /--grace-ms -1/,
    );
    assert.throws(
      () => parseSuperviseArgs(["--name", "a", "--run-dir", "/r", "--final-exit-codes", "3,x", "--", "x"]),
      /--final-exit-codes 3,x/,
    );
  });
});
