// The lab's supervised services in a real namespace, through the providers' handlers: etcd, an echo
// server and the outside router's BIRD are each killed with -9 and started again by their supervisors
// within the backoff (etcd on the same data: a key written before is read after); meanwhile their
// state says "restarting" and read() still finds the resource; delete leaves no process and no file.
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { inNetns, run, tryRun } from "../../../src/effects/exec.ts";
import { createNetns } from "../../../src/effects/netns.ts";
import { daemonPid, daemonSupervision, startDaemon, stopDaemon } from "../../../src/effects/daemon.ts";
import { etcdHandler } from "../../../src/lab/providers/etcd-handler.ts";
import { outsideRouterHandler } from "../../../src/lab/providers/outside-router-handler.ts";
import { entryArgv } from "../../../src/build/bundles.ts";
import { alive } from "../../../src/supervise/process.ts";
import { isRoot, removeNetnsWithPrefix, runPrefix } from "../../support/netns-scope.ts";

const prefix = runPrefix("sv");
const netns = `${prefix}-m`;
const ADDRESS = "10.254.7.1";
let dir = "";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, fn: () => Promise<T | false>, ms = 10_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== false) return v;
    if (Date.now() - t0 > ms) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Processes with the run dir in their command line: supervisors and what they run. */
async function processesOf(runDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    const cmd = (await readFile(`/proc/${e}/cmdline`, "utf8").catch(() => "")).split("\0").join(" ");
    if (cmd.includes(runDir) && alive(Number(e))) out.push(`${e} ${cmd}`);
  }
  return out;
}

/** kill -9 of the service: restarting at once, running again (new pid) within the backoff. */
async function killAndWait(runDir: string, name: string): Promise<{ restartedMs: number; pid: number }> {
  const pid = (await daemonPid(runDir, name))!;
  assert.ok(pid > 0, `${name} runs`);
  const t0 = Date.now();
  process.kill(pid, "SIGKILL");
  const down = await until(`${name} restarting`, async () => {
    const s = await daemonSupervision(runDir, name);
    return s?.state === "restarting" ? s : false;
  });
  assert.equal(down.lastExit?.signal, "SIGKILL");
  assert.equal(down.pid, undefined);
  const next = await until(`${name} running again`, async () => {
    const p = await daemonPid(runDir, name);
    return p !== undefined && p !== pid ? p : false;
  });
  return { restartedMs: Date.now() - t0, pid: next };
}

describe(
  "supervised lab services in a namespace",
  { skip: !isRoot() && "needs root", timeout: 120_000 },
  () => {
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "cl-svc-"));
      await createNetns(netns);
      // A veth pair of its own (no dummy module here): an address for etcd to listen on.
      await run(["ip", "-n", netns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1"]);
      await run(["ip", "-n", netns, "link", "set", "eth1", "up"]);
      await run(["ip", "-n", netns, "addr", "add", `${ADDRESS}/24`, "dev", "eth0"]);
      await run(["ip", "-n", netns, "link", "set", "eth0", "up"]);
    });
    after(async () => {
      for (const n of ["etcd", "echo-a", "outside-bird"]) await stopDaemon(dir, n, 0).catch(() => undefined);
      await removeNetnsWithPrefix(prefix);
      await rm(dir, { recursive: true, force: true });
    });

    it("etcd: killed, started again on the same data within the backoff; read() finds it meanwhile; delete leaves nothing", async (t) => {
      const inputs = { netns, address: ADDRESS, runDir: dir };
      const { id, outs } = await etcdHandler.create(inputs);
      const ctl = (...args: string[]) =>
        run(inNetns(netns, ["etcdctl", "--endpoints", outs.endpoint, "--dial-timeout", "2s", ...args]));
      await ctl("put", "/calico/test/before", "kept");
      const { restartedMs } = await killAndWait(dir, "etcd");
      t.diagnostic(`etcd killed: running again after ${restartedMs} ms`);
      assert.ok(restartedMs < 2000, `restarted after ${restartedMs} ms`);
      assert.ok(await etcdHandler.read!(id, outs), "read finds the supervised etcd");
      assert.equal(
        await until("etcd answering", async () => (await tryRun(inNetns(netns, ["etcdctl", "--endpoints", outs.endpoint, "get", "--print-value-only", "/calico/test/before"]))).stdout.trim() || false), // prettier-ignore
        "kept",
      );
      await etcdHandler.delete!(id, outs);
      assert.deepEqual(await processesOf(dir), []);
      assert.equal(await daemonSupervision(dir, "etcd"), null);
      assert.deepEqual(
        (await readdir(dir)).filter((f) => f.startsWith("etcd")),
        [],
      );
    });

    it("an echo server: killed, started again and answering within the backoff", async (t) => {
      const port = 8089;
      const listening = async () =>
        (await tryRun(inNetns(netns, ["ss", "-Hltn", `sport = :${port}`]))).stdout.includes(`:${port}`);
      await startDaemon({
        name: "echo-a",
        netns,
        argv: [...(await entryArgv("echo-server")), String(port), "a", `${dir}/`],
        runDir: dir,
        ready: listening,
        supervised: true,
        stopGraceMs: 0,
      });
      const { restartedMs } = await killAndWait(dir, "echo-a");
      await until("the echo server listening again", async () => (await listening()) || false);
      t.diagnostic(`echo server killed: running again after ${restartedMs} ms`);
      const body = await run(
        inNetns(netns, ["curl", "-s", "--max-time", "2", `http://${ADDRESS}:${port}/x`]),
      );
      assert.equal((JSON.parse(body) as { pod: string }).pod, "a");
      await stopDaemon(dir, "echo-a");
      assert.deepEqual(await processesOf(dir), []);
    });

    it("the outside router's BIRD: killed, started again within the backoff; delete leaves nothing", async (t) => {
      const inputs = { netns, runDir: dir, birdConf: `router id ${ADDRESS};\nprotocol device {}\n` };
      const { id, outs } = await outsideRouterHandler.create(inputs);
      const { restartedMs } = await killAndWait(dir, "outside-bird");
      t.diagnostic(`outside BIRD killed: running again after ${restartedMs} ms`);
      assert.ok(restartedMs < 2000, `restarted after ${restartedMs} ms`);
      assert.ok(await outsideRouterHandler.read!(id, outs));
      const sock = join(dir, "outside-bird.ctl");
      await until(
        "birdc answering",
        async () => (await tryRun(["birdc", "-s", sock, "show", "status"])).exitCode === 0 || false,
      );
      await outsideRouterHandler.delete!(id, outs);
      assert.deepEqual(await processesOf(dir), []);
      assert.deepEqual(
        (await readdir(dir)).filter((f) => f.startsWith("outside-bird")),
        [],
      );
    });
  },
);
