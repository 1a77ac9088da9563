// Drift: a running lab changed by hand, and how it comes back. Under a stack of its own (dr<hex>, mode bgp,
// the default three hosts and four pods), through the Automation API.
//  1. A pod's namespace deleted by hand: `pulumi refresh` sees the pod gone (Pod read() says so),
//     `pulumi up` recreates it, and the lab verifies again (re-run from outside `up`, as scripts/verify does).
//  2. A route to a remote pod block deleted by hand in a host: the node's agent (BIRD, scan time 2, and
//     Felix's resync) puts it back within seconds; `pulumi refresh` then finds nothing to change.
//  3. A host's agent and BIRD killed, then a route deleted: nothing repairs it, so `pulumi refresh` finds
//     both (the agent gone; the Verification sees the route missing), and `pulumi up` restarts the agent
//     and verifies again.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { readStack } from "../../../src/cli/stack-info.ts";
import { run, tryRun } from "../../../src/effects/exec.ts";
import { listNetns } from "../../../src/effects/netns.ts";
import { verifyLab, formatLabFailures } from "../../../src/verify/lab.ts";
import { normalizeRoutes } from "../../../src/verify/expectations.ts";
import { REPO_ROOT } from "../../support/pulumi-env.ts";
import { labStackSuite, type LabStack } from "../../support/lab-stack.ts";
import { runPrefix } from "../../support/netns-scope.ts";

const stackName = runPrefix("dr");
let labStack: LabStack | undefined;
let stack: Stack;

const podResources = () => labStack!.resources("Pod");

async function verifyFromOutside() {
  const info = await readStack(stackName);
  const report = await verifyLab(info.plan, info.pods, { hostRunDir: (h) => join(info.runDir, h) });
  assert.ok(report.ok, formatLabFailures(report));
  return report;
}

describe("drift: changes made by hand to a running lab", { timeout: 600_000 }, () => {
  labStackSuite(stackName, { "calico-lab:mode": "bgp" }, (s) => {
    labStack = s;
    stack = s.stack;
  });

  it("a pod's namespace deleted by hand: refresh sees it gone, up recreates it, the lab verifies", async () => {
    const pod = `${stackName}-busybox-1`;
    assert.ok((await listNetns()).includes(pod));
    assert.equal((await podResources()).length, 4);
    await run(["ip", "netns", "delete", pod]);

    const refreshed = await stack.refresh({ onOutput: () => undefined });
    assert.equal(refreshed.summary.result, "succeeded");
    const pods = await podResources();
    assert.deepEqual(
      pods.map((r) => r.urn.split("::").pop()).sort(),
      ["busybox-2", "busybox-3", "echo"],
      "after refresh the state has no busybox-1",
    );

    const up = await stack.up({ onOutput: () => undefined });
    assert.equal(up.summary.result, "succeeded");
    assert.equal(up.summary.resourceChanges?.create, 1, JSON.stringify(up.summary.resourceChanges));
    assert.ok((await listNetns()).includes(pod), "up recreated the pod's namespace");
    assert.equal((await podResources()).length, 4);
    const outputs = up.outputs.pods!.value as Record<string, { ip: string }>;
    assert.match(outputs["busybox-1"]!.ip, /^10\.244\./);
    await verifyFromOutside();
  });

  it("a route deleted by hand in a host: the agent puts it back within seconds; refresh changes nothing", async () => {
    const host = `${stackName}-master`;
    const routes = normalizeRoutes(await run(["ip", "-n", host, "route", "show", "proto", "bird"]));
    const remote = routes.find((l) => / via 192\.168\.19\.\d+ dev eth0/.test(l));
    assert.ok(remote, `no BGP route to a remote block on master: ${routes.join("; ")}`);
    const block = remote.split(" ")[0]!;
    await run(["ip", "-n", host, "route", "del", block]);
    const gone = normalizeRoutes((await tryRun(["ip", "-n", host, "route", "show", block])).stdout);
    const started = Date.now();
    let back: string[] = [];
    while (Date.now() - started < 15_000) {
      back = normalizeRoutes((await tryRun(["ip", "-n", host, "route", "show", "proto", "bird"])).stdout);
      if (back.includes(remote)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const tookMs = Date.now() - started;
    assert.ok(
      back.includes(remote),
      `${remote} not back after 15 s (deleted, then saw: ${gone.join("; ") || "nothing"})`,
    );
    console.log(`drift: route ${block} on master deleted by hand, back after ${tookMs} ms`);

    // What refresh makes of it: the agent has repaired it already, so nothing has drifted.
    const refreshed = await stack.refresh({ onOutput: () => undefined });
    assert.equal(refreshed.summary.result, "succeeded");
    const changes = Object.keys(refreshed.summary.resourceChanges ?? {}).filter((k) => k !== "same");
    assert.deepEqual(changes, [], JSON.stringify(refreshed.summary.resourceChanges));
    await verifyFromOutside();
  });
  it("an agent killed and a route deleted: refresh finds the drift, up restarts the agent and verifies", async () => {
    const host = `${stackName}-worker-1`;
    const runDir = join(REPO_ROOT, ".lab", stackName, "worker-1");
    // Its supervisor first, or it would start the agent again at once (and the agent, BIRD).
    const supervisor = JSON.parse(await readFile(join(runDir, "agent.supervise.json"), "utf8")) as {
      supervisorPid: number;
    };
    process.kill(supervisor.supervisorPid, "SIGKILL");
    for (const f of ["agent.pid", "bird.pid"]) {
      const pid = Number((await readFile(join(runDir, f), "utf8")).trim());
      process.kill(pid, "SIGKILL");
    }
    const routes = normalizeRoutes(await run(["ip", "-n", host, "route", "show", "proto", "bird"]));
    const remote = routes.find((l) => / via 192\.168\.19\.\d+ dev eth0/.test(l))!;
    assert.ok(remote, `no BGP route on worker-1: ${routes.join("; ")}`);
    await run(["ip", "-n", host, "route", "del", remote.split(" ")[0]!]);

    const refreshed = await stack.refresh({ onOutput: () => undefined });
    const changes = refreshed.summary.resourceChanges ?? {};
    assert.ok(
      (changes.update ?? 0) + (changes.delete ?? 0) >= 2,
      `refresh saw no drift: ${JSON.stringify(changes)}`,
    );
    const [verification] = await labStack!.resources("Verification");
    const drift = (verification?.outputs?.drift ?? []) as string[];
    assert.ok(
      drift.some((d) => d.includes(`route missing: ${remote}`)),
      `drift: ${JSON.stringify(drift)}`,
    );

    const res = await stack.up({ onOutput: () => undefined });
    assert.equal(res.summary.result, "succeeded");
    assert.ok((res.summary.resourceChanges?.create ?? 0) >= 1, JSON.stringify(res.summary.resourceChanges));
    assert.ok((res.summary.resourceChanges?.update ?? 0) >= 1, JSON.stringify(res.summary.resourceChanges));
    const back = normalizeRoutes(await run(["ip", "-n", host, "route", "show", "proto", "bird"]));
    assert.ok(back.includes(remote), `route not back: ${back.join("; ")}`);
    await verifyFromOutside();
  });
});
