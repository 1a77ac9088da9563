// SIGINT during `pulumi up` (as a user's Ctrl-C), then `up` again, then `destroy`: the second up must
// finish the lab (verified), and destroy must leave nothing behind: no namespace, no process of the
// stack, no run folder, the root namespace as it was.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { listNetns } from "../../../src/effects/netns.ts";
import { LabStack } from "../../support/lab-stack.ts";
import { pollUntil } from "../../support/faults-probe.ts";
import { labEnv, REPO_ROOT } from "../../support/pulumi-env.ts";
import { runPrefix } from "../../support/netns-scope.ts";
import { rootSnapshot, type RootSnapshot } from "../../support/root-snapshot.ts";

const stackName = runPrefix("fs");
const runDir = join(REPO_ROOT, ".lab", stackName);
let labStack: LabStack | undefined;
let root0: RootSnapshot;

async function stackNamespaces(): Promise<string[]> {
  return (await listNetns()).filter((n) => n.startsWith(`${stackName}-`));
}

/** Processes whose command line names the stack's run folder (agents, BIRD, etcd, echo servers). */
async function stackProcesses(): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir("/proc")) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    const argv = (await readFile(`/proc/${e}/cmdline`, "utf8").catch(() => "")).split("\0").join(" ");
    if (argv.includes(`${runDir}/`) || argv.endsWith(runDir)) out.push(`${e}: ${argv.slice(0, 160)}`);
  }
  return out;
}

describe("SIGINT during pulumi up", { timeout: 600_000 }, () => {
  before(async () => {
    root0 = await rootSnapshot();
    labStack = await LabStack.open(stackName, { config: { "calico-lab:mode": "bgp" } });
  });

  after(async () => {
    await labStack?.remove();
  });

  it("interrupted while the agents start, up again finishes the lab, destroy leaves nothing", async () => {
    const child = spawn(
      "pulumi",
      ["up", "--yes", "--skip-preview", "--non-interactive", "--stack", stackName],
      { cwd: REPO_ROOT, env: { ...process.env, ...labEnv() }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    let exit: number | null | undefined;
    const exited = new Promise<void>((r) =>
      child.once("close", (code) => {
        exit = code;
        r();
      }),
    );
    // Mid-update: the first agent is being started (hosts, underlay and etcd exist; pods do not yet).
    const agentStarting = await pollUntil(
      async () => exit !== undefined || existsSync(join(runDir, "worker-1", "agent.pid")),
      Date.now() + 180_000,
    );
    assert.ok(
      agentStarting !== null && exit === undefined,
      `up ended before the agents started:\n${output.slice(-1500)}`,
    );
    const t0 = Date.now();
    child.kill("SIGINT");
    const killer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    await exited;
    clearTimeout(killer);
    console.log(`# pulumi up interrupted: exit ${exit} ${Date.now() - t0} ms after SIGINT`);
    assert.notEqual(exit, 0, `pulumi up ignored SIGINT and finished:\n${output.slice(-1500)}`);

    const up = await labStack!.up();
    console.log(
      `# up again: ${up.ok ? "succeeded" : "FAILED"} in ${(up.durationMs / 1000).toFixed(1)} s: ${up.text}`,
    );
    assert.ok(up.ok, `up after the interrupted up failed: ${up.text}`);
    const out = await labStack!.stack.outputs();
    const verification = out["verification"]?.value as { failed: number; passed: number } | undefined;
    assert.ok(verification && verification.failed === 0, `verification: ${JSON.stringify(verification)}`);

    await labStack!.stack.destroy({ onOutput: () => undefined });
    assert.deepEqual(await stackNamespaces(), [], "namespaces left after destroy");
    assert.deepEqual(await stackProcesses(), [], "processes left after destroy");
    assert.equal(existsSync(runDir), false, "the run folder is left");
    assert.deepEqual(await rootSnapshot(), root0, "the root namespace changed");
  });
});
