// A real `pulumi up` / `destroy` of the namespace lab through the Automation API, under a stack name of
// its own so it never touches a user's stack. Checks the lab works and leaves the machine as it was.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation/index.js";
import { run } from "../../../src/effects/exec.ts";
import { createNetns, listNetns } from "../../../src/effects/netns.ts";
import { ping } from "../../../src/verify/ping.ts";
import { labEnv, REPO_ROOT } from "../../support/pulumi-env.ts";
import { removeNetnsWithPrefix, runPrefix } from "../../support/netns-scope.ts";
import { rootSnapshot, type RootSnapshot } from "../../support/root-snapshot.ts";

const stackName = runPrefix("it");
const env = labEnv();
let stack: Stack;
let before0: RootSnapshot;

async function labNamespaces(): Promise<string[]> {
  return (await listNetns()).filter((n) => n.startsWith(`${stackName}-`));
}

describe("namespace lab through the Automation API", { timeout: 240_000 }, () => {
  before(async () => {
    Object.assign(process.env, env);
    before0 = await rootSnapshot();
    stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir: REPO_ROOT }, { envVars: env });
    await stack.setAllConfig({ "calico-lab:mode": { value: "bgp" } });
  });

  after(async () => {
    try {
      await stack?.destroy({ onOutput: () => undefined });
    } finally {
      await stack?.workspace.removeStack(stackName).catch(() => undefined);
      await rm(join(REPO_ROOT, "stacks", `Pulumi.${stackName}.yaml`), { force: true });
      await removeNetnsWithPrefix(stackName);
    }
  });

  it("up: the bgp lab, verified with packets, shown as the stack output", async () => {
    const res = await stack.up({ onOutput: () => undefined });
    assert.equal(res.summary.result, "succeeded");
    assert.deepEqual(
      await labNamespaces(),
      [
        "busybox-1",
        "busybox-2",
        "busybox-3",
        "echo",
        "master",
        "outside",
        "underlay",
        "worker-1",
        "worker-2",
      ].map((n) => `${stackName}-${n}`),
    );
    const verification = res.outputs.verification!.value as {
      passed: number;
      failed: number;
      checks: string[];
      encapsulation: string;
    };
    assert.equal(verification.failed, 0);
    assert.ok(verification.passed >= 40, `only ${verification.passed} checks`);
    assert.equal(verification.encapsulation, "plain");
    for (const cat of [
      "underlay",
      "routes",
      "devices",
      "bgp",
      "pod-pod",
      "node-pod",
      "tcp",
      "nat",
      "capture",
    ]) {
      assert.ok(
        verification.checks.some((c) => c.includes(`[${cat}]`)),
        `no ${cat} check in ${verification.checks.join("\n")}`,
      );
    }
    const report = res.outputs.report!.value as { markdown: string; html: string };
    assert.ok(existsSync(report.markdown) && existsSync(report.html));
    // The rendered manifest is an output and a file: the agent's one source of truth.
    assert.match(String(res.outputs.manifest!.value), /name: CALICO_IPV4POOL_IPIP\n\s+value: "Never"/);
    assert.equal(res.outputs.manifestFile!.value, join(REPO_ROOT, ".lab", stackName, "calico.yaml"));
    // Independently of the lab's own verification:
    const r = await ping(`${stackName}-master`, "192.168.19.167", 3000);
    assert.ok(r.ok, `master could not ping worker-2: ${r.seen}`);
  });

  it("a second up with nothing changed changes nothing", async () => {
    const res = await stack.up({ onOutput: () => undefined });
    const changes = res.summary.resourceChanges ?? {};
    assert.deepEqual(
      Object.keys(changes).filter((k) => k !== "same"),
      [],
      `unexpected changes: ${JSON.stringify(changes)}`,
    );
  });

  it("switching mode on the running lab (bgp -> vxlan) reaches the pool: VXLAN on the wire, no BGP routes", async () => {
    await stack.setConfig("calico-lab:mode", { value: "vxlan" });
    try {
      const res = await stack.up({ onOutput: () => undefined });
      const v = res.outputs.verification!.value as { failed: number; encapsulation: string };
      assert.equal(v.failed, 0);
      assert.equal(v.encapsulation, "vxlan");
      const routes = await run(["ip", "-n", `${stackName}-master`, "route", "show"]);
      assert.doesNotMatch(routes, /proto bird/);
      assert.match(routes, /dev vxlan\.calico/);
    } finally {
      await stack.setConfig("calico-lab:mode", { value: "bgp" });
    }
  });

  it("destroy leaves namespaces, root links, routes and iptables exactly as before", async () => {
    await stack.destroy({ onOutput: () => undefined });
    assert.deepEqual(await labNamespaces(), []);
    assert.deepEqual(await rootSnapshot(), before0);
    assert.equal(existsSync(join(REPO_ROOT, ".lab", stackName)), false, "the stack's run folder is left");
  });

  it("up again after destroy, then destroy again", async () => {
    const res = await stack.up({ onOutput: () => undefined });
    assert.equal(res.summary.result, "succeeded");
    assert.equal((await labNamespaces()).length, 9);
    await stack.destroy({ onOutput: () => undefined });
    assert.deepEqual(await labNamespaces(), []);
  });

  it("a failed up leaves nothing that destroy cannot remove", async () => {
    // A namespace in the way: the worker-2 host cannot be created; everything else may be.
    const squatter = `${stackName}-worker-2`;
    await createNetns(squatter);
    try {
      await assert.rejects(stack.up({ onOutput: () => undefined }), /already exists/);
      await stack.destroy({ onOutput: () => undefined });
      assert.deepEqual(await labNamespaces(), [squatter]);
    } finally {
      await removeNetnsWithPrefix(stackName);
    }
    assert.deepEqual(await rootSnapshot(), before0);
  });

  it("bad config is rejected at preview with every problem listed, before anything is created", async () => {
    await stack.setAllConfig({
      "calico-lab:mode": { value: "fast" },
      "calico-lab:podCidr": { value: "192.168.0.0/16" },
    });
    try {
      await assert.rejects(stack.preview({ onOutput: () => undefined }), (e: Error) => {
        assert.match(e.message, /configuration problems; nothing was created/);
        assert.match(e.message, /calico-lab:mode = "fast": unknown mode/);
        assert.match(e.message, /calico-lab:podCidr = "192.168.0.0\/16"/);
        return true;
      });
      assert.deepEqual(await labNamespaces(), []);
    } finally {
      await stack.removeConfig("calico-lab:podCidr");
      await stack.setConfig("calico-lab:mode", { value: "bgp" });
    }
  });
});
