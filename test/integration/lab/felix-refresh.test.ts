// What the agent keeps on a host, when the agent cannot keep it: `pulumi up --refresh` reads the same facts
// (a pod's /32 route to its cali interface, the host's default route) and repairs them in place. Under a
// stack of its own (fr<hex>, mode bgp, the default three hosts and four pods), through the Automation API.
//  0. The agent running: a pod's /32 and worker-2's default route deleted come back within 2 s (the
//     plan's underlay routes reach the agent through the Agent resource).
//  1. worker-1's agent stopped (SIGSTOP), a pod's /32 route and worker-1's default route deleted by hand:
//     nothing puts them back; `up --refresh` repairs both in place (Pod and UnderlayPort updated, their
//     drift cleared, nothing replaced, the pods keep their addresses) and its verification still fails,
//     naming the stopped calico-node; resumed, the next `up` verifies.
//  2. The agent resumed: it finds nothing left to repair; a refresh after that changes nothing.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { readStack } from "../../../src/cli/stack-info.ts";
import { run } from "../../../src/effects/exec.ts";
import { verifyLab, formatLabFailures } from "../../../src/verify/lab.ts";
import { REPO_ROOT } from "../../support/pulumi-env.ts";
import { labStackSuite, type LabStack, type StateResource } from "../../support/lab-stack.ts";
import { runPrefix } from "../../support/netns-scope.ts";

const stackName = runPrefix("fr");
let labStack: LabStack | undefined;
let stack: Stack;

const resources = (kind: string): Promise<StateResource[]> => labStack!.resources(kind);

interface RouteJson {
  dst: string;
  dev?: string;
}
async function hasRoute(netns: string, dst: string, dev: string): Promise<boolean> {
  const routes = JSON.parse(await run(["ip", "-n", netns, "-j", "-4", "route", "show"])) as RouteJson[];
  return routes.some((r) => r.dst === dst && r.dev === dev);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("felix drift: up --refresh repairs what a stopped agent cannot", { timeout: 900_000 }, () => {
  labStackSuite(stackName, { "calico-lab:mode": "bgp" }, (s) => {
    labStack = s;
    stack = s.stack;
  });

  it("agent running: a pod's /32 and the default route deleted come back within 2 s", async () => {
    const host = `${stackName}-worker-2`;
    const pod = (await resources("Pod")).find((r) => r.outputs?.hostNetns === host);
    assert.ok(pod, "no pod on worker-2");
    const ip = pod.outputs!.ip as string;
    const dev = pod.outputs!.hostInterface as string;
    for (const [what, del, back] of [
      [`${ip}/32 dev ${dev}`, ["route", "del", `${ip}/32`, "dev", dev], () => hasRoute(host, ip, dev)],
      [
        "default dev eth0",
        ["route", "del", "default", "dev", "eth0"],
        () => hasRoute(host, "default", "eth0"),
      ],
    ] as const) {
      const t0 = Date.now();
      await run(["ip", "-n", host, ...del]);
      while (!(await back()) && Date.now() - t0 < 10_000) await sleep(50);
      const ms = Date.now() - t0;
      console.log(`felix drift: ${what} on worker-2 deleted, the agent put it back after ${ms} ms`);
      assert.ok(await back(), `${what} not back after 10 s`);
      assert.ok(ms <= 2000, `${what} back after ${ms} ms`);
    }
  });

  it("agent stopped, a pod's /32 and the default route deleted: up --refresh puts both back in place", async () => {
    const host = `${stackName}-worker-1`;
    const pods = await resources("Pod");
    const pod = pods.find((r) => r.outputs?.hostNetns === host);
    assert.ok(pod, `no pod on worker-1: ${JSON.stringify(pods.map((p) => p.outputs?.hostNetns))}`);
    const ip = pod.outputs!.ip as string;
    const dev = pod.outputs!.hostInterface as string;
    const idsBefore = pods.map((p) => [p.urn, p.id, p.outputs?.ip]).sort();
    const pid = Number(
      (await readFile(join(REPO_ROOT, ".lab", stackName, "worker-1", "agent.pid"), "utf8")).trim(),
    );
    process.kill(pid, "SIGSTOP");
    try {
      await run(["ip", "-n", host, "route", "del", `${ip}/32`, "dev", dev]);
      await run(["ip", "-n", host, "route", "del", "default", "dev", "eth0"]);
      await sleep(3000);
      assert.equal(await hasRoute(host, ip, dev), false, "nothing but the agent repairs the pod's route");
      assert.equal(await hasRoute(host, "default", "eth0"), false, "nor the default route");

      const t0 = Date.now();
      // The repair happens before the verification, which fails: the agent is stopped, and says so.
      let failure = "";
      try {
        await stack.up({ refresh: true, onOutput: () => undefined });
      } catch (e) {
        failure = String((e as Error).message);
      }
      console.log(
        `felix drift: up --refresh repaired the pod's /32 and the default route in ${Date.now() - t0} ms`,
      );
      assert.match(failure, /calico-node on worker-1 is not running \(pid \d+ is stopped by a signal/);
      assert.ok(await hasRoute(host, ip, dev), `${ip}/32 dev ${dev} back`);
      assert.ok(await hasRoute(host, "default", "eth0"), "default dev eth0 back");
      const after = await resources("Pod");
      // Repaired in place: the same resources (ids), at the same addresses, their drift gone.
      assert.deepEqual(
        after.map((p) => [p.urn, p.id, p.outputs?.ip]).sort(),
        idsBefore,
        "pods are the same resources and keep their addresses",
      );
      for (const p of [...after, ...(await resources("UnderlayPort"))])
        assert.equal(p.outputs?.drift, undefined, `${p.urn}: drift left in the state`);
    } finally {
      process.kill(pid, "SIGCONT");
    }
    const res = await stack.up({ onOutput: () => undefined });
    assert.equal(res.summary.result, "succeeded");
    const info = await readStack(stackName);
    const report = await verifyLab(info.plan, info.pods, { hostRunDir: (h) => join(info.runDir, h) });
    assert.ok(report.ok, formatLabFailures(report));
  });

  it("the agent resumed finds nothing to repair; a refresh then changes nothing", async () => {
    await sleep(1500);
    const refreshed = await stack.refresh({ onOutput: () => undefined });
    assert.equal(refreshed.summary.result, "succeeded");
    const changes = Object.keys(refreshed.summary.resourceChanges ?? {}).filter((k) => k !== "same");
    assert.deepEqual(changes, [], JSON.stringify(refreshed.summary.resourceChanges));
  });
});
