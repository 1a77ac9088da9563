// IPIP on a kernel without the ipip module: the agent refuses before creating anything, naming the
// module and the alternatives. (The real IPIP dataplane is verified in a VM.)
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNetns } from "../../../src/effects/netns.ts";
import { addAddress, createBridge, createVethPair } from "../../../src/effects/links.ts";
import { run, tryRun } from "../../../src/effects/exec.ts";
import { preflight } from "../../../src/agent/felix/preflight.ts";
import { startAgent, agentRunning } from "../../../src/agent/daemon/launch.ts";
import { readStatus } from "../../../src/agent/daemon/status.ts";
import { loadTemplate, PRESETS, renderManifest } from "../../../src/manifest/index.ts";
import { isRoot, removeNetnsWithPrefix, runPrefix } from "../../support/netns-scope.ts";

const hasIpip = async () =>
  (await tryRun(["unshare", "--net", "ip", "link", "add", "pf", "type", "ipip"])).exitCode === 0;

describe(
  "routing: IPIP preflight on this kernel",
  { skip: !isRoot() && "needs root", timeout: 60_000 },
  () => {
    const p = runPrefix("rp");
    let dir = "";
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "cl-rp-"));
      await createNetns(`${p}-sw`);
      await createBridge(`${p}-sw`, "br0", 1500);
      await createNetns(`${p}-h1`);
      await createVethPair({
        netns: `${p}-h1`,
        ifname: "eth0",
        peerNetns: `${p}-sw`,
        peerIfname: "port1",
        mtu: 1500,
        peerBridge: "br0",
      });
      await addAddress(`${p}-h1`, "eth0", "10.99.0.11/24");
    });
    after(async () => {
      await removeNetnsWithPrefix(p);
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    test("the agent refuses an IPIP manifest before creating anything, naming the module and the alternatives", async (t) => {
      if (await hasIpip()) return t.skip("this kernel has ipip");
      const problems = await preflight("ipip");
      assert.deepEqual(
        problems.map((x) => x.feature),
        ["ipip"],
      );
      const manifest = join(dir, "calico.yaml");
      await writeFile(
        manifest,
        renderManifest(loadTemplate("etcdv3"), {
          ...PRESETS.ipip,
          etcdEndpoints: ["http://10.99.0.11:2379"],
          podCidr: "10.244.0.0/16",
        }).text,
      );
      const runDir = join(dir, "node-1");
      await assert.rejects(
        startAgent({
          hostNetns: `${p}-h1`,
          manifestPath: manifest,
          nodeName: "node-1",
          runDir,
          readyTimeoutMs: 15_000,
        }),
        (e: Error) => {
          assert.match(e.message, /mode ipip needs the kernel's ipip module/);
          assert.match(e.message, /Nothing was created/);
          assert.match(e.message, /bgp or vxlan/);
          assert.match(e.message, /VM/);
          return true;
        },
      );
      const st = await readStatus(runDir);
      assert.equal(st?.phase, "error");
      assert.match(st?.error ?? "", /ipip module/);
      assert.equal(await agentRunning(runDir), false);
      const log = await readFile(join(runDir, "agent.log"), "utf8");
      assert.match(log, /refusing to start/);
      assert.doesNotMatch(
        log,
        /registered|autodetected|BIRD started/,
        "nothing reached the datastore or the host",
      );
      const links = await run(["ip", "-n", `${p}-h1`, "-o", "link", "show"]);
      assert.deepEqual(
        links
          .split("\n")
          .filter(Boolean)
          .map((l) => l.split(":")[1]!.trim().split("@")[0]),
        ["lo", "eth0"],
      );
    });
  },
);
