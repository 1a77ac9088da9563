// A dead daemon on a real lab (stack vfd<hex>, mode bgp, three hosts, four pods, Automation API): verification
// names it as a failed check, never as a stack trace, in scripts/verify and in a plain `pulumi up` (the
// Verification resource's diff asks the daemons, so the next up verifies again); `up --refresh` heals.
//  1. etcd killed: "etcd at <addr> is unreachable: …" and "etcd on master is not running (pid N gone)".
//  2. worker-1's calico-node killed: "calico-node on worker-1 is not running (pid N gone)".
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { readStack } from "../../../src/cli/stack-info.ts";
import { tryRun } from "../../../src/effects/exec.ts";
import { formatLabFailures, verifyLab } from "../../../src/verify/lab.ts";
import { labEnv, REPO_ROOT } from "../../support/pulumi-env.ts";
import { labStackSuite } from "../../support/lab-stack.ts";
import { runPrefix } from "../../support/netns-scope.ts";

const stackName = runPrefix("vfd");
const env = labEnv();
const runDir = join(REPO_ROOT, ".lab", stackName);
let stack: Stack;

const pidOf = async (file: string) => Number((await readFile(join(runDir, file), "utf8")).trim());

/**
 * Kills a daemon for good: its supervisor first (`<service>.supervise.json` beside its pid file), or it
 * would start the daemon again at once, and then the daemon. A dead daemon, as one whose supervisor has
 * given up, is what these tests need verification to name.
 */
async function killForGood(pidFile: string): Promise<number> {
  const sup = JSON.parse(
    await readFile(join(runDir, pidFile.replace(/\.pid$/, ".supervise.json")), "utf8"),
  ) as { supervisorPid: number };
  await killAndWait(sup.supervisorPid);
  const pid = await pidOf(pidFile);
  await killAndWait(pid);
  return pid;
}

async function killAndWait(pid: number): Promise<void> {
  process.kill(pid, "SIGKILL");
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** scripts/verify as a user runs it: exit code, stdout, stderr. */
const scriptsVerify = () =>
  tryRun(["bash", join(REPO_ROOT, "scripts", "verify"), stackName], { env, timeoutMs: 120_000 });

async function failedChecks() {
  const info = await readStack(stackName);
  const report = await verifyLab(info.plan, info.pods, {
    deadlineMs: 2000,
    runDir: info.runDir,
    hostRunDir: (h) => join(info.runDir, h),
  });
  return { report, failed: report.checks.filter((c) => !c.ok) };
}

/** A plain `pulumi up`: must fail, with the message the engine printed. */
async function upFails(): Promise<string> {
  try {
    await stack.up({ onOutput: () => undefined });
  } catch (e) {
    return String((e as Error).message);
  }
  assert.fail("pulumi up succeeded with a daemon dead");
}

async function healed(): Promise<void> {
  const up = await stack.up({ refresh: true, onOutput: () => undefined });
  assert.equal(up.summary.result, "succeeded");
  const { report } = await failedChecks();
  assert.ok(report.ok, formatLabFailures(report));
}

describe("verification names a dead daemon", { timeout: 900_000 }, () => {
  labStackSuite(stackName, { "calico-lab:mode": "bgp" }, (s) => (stack = s.stack));

  it("etcd killed: a named failed check in verify, scripts/verify and pulumi up; no stack trace", async () => {
    const pid = await killForGood("etcd.pid");
    const info = await readStack(stackName);
    const addr = info.plan.etcd.endpoint.replace(/^http:\/\//, "");

    const { failed } = await failedChecks();
    const byName = new Map(failed.map((c) => [c.name, c.seen]));
    assert.match(
      byName.get(`etcd at ${addr} answers`) ?? "",
      new RegExp(`^etcd at ${addr} is unreachable: connection refused`),
    );
    assert.equal(
      byName.get("etcd on master is running and ready"),
      `etcd on master is not running (pid ${pid} gone)`,
    );
    assert.ok(
      failed.every((c) => ["daemons", "routes", "devices"].includes(c.category)),
      formatLabFailures({ ...(await failedChecks()).report }),
    );

    const cli = await scriptsVerify();
    assert.equal(cli.exitCode, 1, cli.stderr);
    assert.match(cli.stdout, new RegExp(`seen: +etcd at ${addr} is unreachable: connection refused`));
    assert.match(cli.stdout, /FAIL daemons/);
    assert.doesNotMatch(cli.stdout + cli.stderr, /\n\s+at .+:\d+:\d+\)?\n/, "no stack trace");
    assert.equal(cli.stderr.trim(), "");

    const up = await upFails();
    assert.match(up, new RegExp(`etcd at ${addr} is unreachable: connection refused`));
    assert.match(up, new RegExp(`etcd on master is not running \\(pid ${pid} gone\\)`));

    await healed();
  });

  it("calico-node killed on worker-1: a named failed check in verify, scripts/verify and pulumi up", async () => {
    const pid = await killForGood("worker-1/agent.pid");
    const want = `calico-node on worker-1 is not running (pid ${pid} gone)`;

    const { failed } = await failedChecks();
    assert.deepEqual(
      failed.map((c) => [c.category, c.name, c.seen]),
      [["daemons", "calico-node on worker-1 is running and ready", want]],
    );

    const cli = await scriptsVerify();
    assert.equal(cli.exitCode, 1, cli.stderr);
    assert.ok(cli.stdout.includes(`seen:     ${want}`), cli.stdout);

    // Nothing in the lab's inputs changed: the Verification's diff finds the dead agent and runs again.
    const up = await upFails();
    assert.ok(up.includes(want), up);

    await healed();
  });
});
