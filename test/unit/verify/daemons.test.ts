// The daemons checks: processes read from /proc (real ones: a running sleep, a zombie, a gone pid), the
// agent's claim against its pid, BIRD's and etcd's answers, and every failure text (golden).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { formatVerifySummary } from "../../../src/cli/verify.ts";
import { parseBgpSessions } from "../../../src/verify/bird.ts";
import {
  birdCheck,
  etcdAnswersCheck,
  onlyCatchingUp,
  processCheck,
} from "../../../src/verify/daemon-checks.ts";
import {
  agentArgv,
  agentNotReady,
  classifyProcess,
  probePid,
  probeProcess,
  processText,
  supervisorRestarts,
} from "../../../src/verify/daemons.ts";
import type { LabReport } from "../../../src/verify/lab.ts";
import { etcdReason, etcdctlArgv, parseEtcdctlOutput } from "../../../src/verify/snapshot.ts";
import { assertGolden } from "../../support/golden.ts";
import { BGP_KVS, fixture } from "./fixture.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isSleep = (argv: string[]) => argv[0]?.endsWith("sleep") ?? false;

describe("processes, read from /proc", () => {
  it("a live process whose argv is ours is running; a recycled pid is not ours", async () => {
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      assert.deepEqual(await probePid(child.pid!, isSleep), { state: "running", pid: child.pid });
      const other = await probePid(child.pid!, () => false);
      assert.equal(other.state, "not-ours");
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("a killed process is gone, a pid file naming it says so", async () => {
    const dir = await mkdtemp(join(tmpdir(), "vf-daemons-"));
    try {
      const child = spawn("sleep", ["30"], { stdio: "ignore" });
      const pid = child.pid!;
      await writeFile(join(dir, "x.pid"), `${pid}\n`);
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
      await sleep(20);
      assert.deepEqual(await probeProcess(join(dir, "x.pid"), isSleep), { state: "gone", pid });
      assert.deepEqual(await probeProcess(join(dir, "none.pid"), isSleep), {
        state: "no-pid",
        file: join(dir, "none.pid"),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a child its parent never reaps is a zombie, not running", async () => {
    // `sleep 0.3` exits after its parent bash became `sleep 30` (exec), which never waits for it.
    const parent = spawn("bash", ["-c", "sleep 0.3 & echo $!; exec sleep 30"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    try {
      const pid = Number(
        await new Promise<string>((r) => parent.stdout.once("data", (d: Buffer) => r(d.toString()))),
      );
      let p = await probePid(pid, isSleep);
      for (let i = 0; i < 150 && p.state !== "zombie"; i++) {
        await sleep(20);
        p = await probePid(pid, isSleep);
      }
      assert.deepEqual(p, { state: "zombie", pid });
    } finally {
      parent.kill("SIGKILL");
    }
  });

  it("reads the state letter after the command name, whatever the name holds", () => {
    assert.equal(classifyProcess(7, "7 (a) b) Z 1 7 7", "", () => true).state, "zombie");
    assert.equal(
      classifyProcess(7, "7 (bird) S 1 7 7", "bird\0-R\0", (a) => a[0] === "bird").state,
      "running",
    );
    assert.equal(classifyProcess(7, "7 (bird) T 1 7 7", "bird\0-R\0", () => true).state, "stopped");
  });

  it("the agent's argv names its run dir", () => {
    const ours = agentArgv("/lab/x/worker-1");
    assert.ok(
      ours([
        "/usr/bin/node",
        "/r/dist/bin/agent.mjs",
        "--nodename",
        "worker-1",
        "--run-dir",
        "/lab/x/worker-1",
      ]),
    );
    assert.ok(!ours(["/usr/bin/node", "/r/dist/bin/agent.mjs", "--run-dir", "/lab/x/worker-10"]));
  });

  it("a supervisor's restart count is shown when its file says one", async () => {
    const dir = await mkdtemp(join(tmpdir(), "vf-sup-"));
    try {
      await writeFile(join(dir, "agent.supervise.json"), JSON.stringify({ restarts: 2, child: 1234 }));
      assert.equal(await supervisorRestarts(join(dir, "agent.supervise.json")), 2);
      assert.equal(await supervisorRestarts(join(dir, "none.supervise.json")), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("BIRD and etcd answers", () => {
  it("parses the BGP sessions of a real BIRD", () => {
    assert.deepEqual(
      parseBgpSessions(fixture("bird-protocols.txt")).map((s) => [s.address, s.type, s.state, s.info]),
      [
        ["192.168.19.165", "node-to-node mesh", "up", "Established"],
        ["192.168.19.167", "node-to-node mesh", "up", "Established"],
      ],
    );
    assert.match(fixture("bird-status.txt"), /Daemon is up and running/);
  });

  it("reads etcdctl's output: facts, an error, or nothing", () => {
    const b64 = (t: string) => Buffer.from(t).toString("base64");
    const run = (stdout: string, stderr = "", exitCode = 0) => ({ stdout, stderr, exitCode });
    const status = run(JSON.stringify([{ Endpoint: "192.168.19.165:2379", Status: { version: "3.4.23" } }]));
    const get = run(
      JSON.stringify({
        kvs: [...BGP_KVS, { key: "/calico/felix/v1/host/x", value: "{}" }].map((kv) => ({
          key: b64(kv.key),
          value: b64(kv.value),
        })),
      }),
    );
    const ok = parseEtcdctlOutput(status, get);
    assert.ok(ok.ok && ok.facts.nodes.length === 3 && ok.version === "3.4.23" && ok.unreadable.length === 0);
    const refused = run(
      "",
      '{"level":"warn","ts":"2026-12-02T18:35:48.495Z","msg":"retrying of unary invoker failed","error":"rpc error: code = DeadlineExceeded desc = latest balancer error: connection error: desc = \\"transport: Error while dialing dial tcp 192.168.19.165:2379: connect: connection refused\\""}\n' +
        "Failed to get the status of endpoint 192.168.19.165:2379 (context deadline exceeded)\n",
      1,
    );
    assert.deepEqual(parseEtcdctlOutput(refused, get), {
      ok: false,
      reason: "connection refused (dial tcp 192.168.19.165:2379)",
    });
    assert.deepEqual(parseEtcdctlOutput(status, run("", "Error: context deadline exceeded\n", 1)), {
      ok: false,
      reason: "no answer in time",
    });
    assert.deepEqual(parseEtcdctlOutput(run("", "", 127), get), {
      ok: false,
      reason: "etcdctl exited with code 127",
    });
    assert.throws(() => etcdctlArgv("http://x:1; rm -rf /", ["get"]), /not an etcd endpoint list/);
    assert.deepEqual(etcdctlArgv("http://192.168.19.165:2379", ["endpoint", "status"]), [
      "etcdctl", "--endpoints=http://192.168.19.165:2379", "--dial-timeout=2s", "--command-timeout=3s", "-w", "json", "endpoint", "status",
    ]); // prettier-ignore
  });

  it("shortens etcd client errors to their cause", () => {
    assert.equal(etcdReason("Error: 4 DEADLINE_EXCEEDED: Deadline exceeded"), "no answer in time");
    assert.equal(
      etcdReason(
        "Error: 14 UNAVAILABLE: No connection established. Last error: Error: connect EHOSTUNREACH 10.0.0.1:2379",
      ),
      "no route to its address (connect EHOSTUNREACH 10.0.0.1:2379)",
    );
    assert.equal(etcdReason("Error: Error: something odd"), "something odd");
  });
});

describe("the daemons' failure texts", () => {
  const master = "http://192.168.19.165:2379";
  const checks = [
    etcdAnswersCheck(master, {
      ok: false,
      reason: "connection refused (connect ECONNREFUSED 192.168.19.165:2379)",
    }),
    processCheck("etcd on master", { state: "gone", pid: 25909 }),
    processCheck("calico-node on worker-1", { state: "gone", pid: 1234 }, 3),
    processCheck("calico-node on worker-2", { state: "zombie", pid: 1301 }),
    processCheck("calico-node on worker-2", { state: "stopped", pid: 1302 }),
    processCheck("calico-node on master", { state: "no-pid", file: "/lab/x/master/agent.pid" }),
    processCheck("calico-node on master", {
      state: "not-ours",
      pid: 77,
      argv: "/usr/bin/python3 -m http.server",
    }),
    processCheck(
      "calico-node on worker-1",
      { state: "running", pid: 1400 },
      undefined,
      agentNotReady({ phase: "starting" }, undefined),
    ),
    processCheck(
      "calico-node on worker-1",
      { state: "running", pid: 1400 },
      undefined,
      agentNotReady({ phase: "ready", pid: 1401 }, { state: "gone", pid: 1401 }),
    ),
    processCheck(
      "calico-node on worker-1",
      { state: "running", pid: 1400 },
      undefined,
      agentNotReady(undefined, undefined),
    ),
    birdCheck("BIRD on worker-1", { state: "gone", pid: 2222 }, "/lab/x/worker-1/bird.ctl"),
    birdCheck(
      "BIRD on worker-2",
      undefined,
      "/run/vm/bird.ctl",
      "Unable to connect to server control socket (/run/vm/bird.ctl): No such file or directory",
    ),
  ];
  it("each names the daemon, where it runs and why (golden)", async () => {
    assert.ok(checks.every((c) => !c.ok && c.category === "daemons"));
    const text =
      checks.map((c) => `- ${c.name}\n  expected: ${c.expected}\n  seen:     ${c.seen}`).join("\n") + "\n";
    await assertGolden("verify/daemon-failures.txt", text);
  });
  it("a live, ready daemon passes", () => {
    assert.ok(processCheck("etcd on master", { state: "running", pid: 5 }).ok);
    assert.equal(
      processText("etcd on master", { state: "running", pid: 5 }),
      "etcd on master is running (pid 5)",
    );
    assert.ok(birdCheck("BIRD on master", { state: "running", pid: 6 }, "/s").ok);
    assert.equal(agentNotReady({ phase: "ready", pid: 5 }, undefined), undefined);
  });
  it("the summary of scripts/verify lists the daemons first among the failures (golden)", async () => {
    const report: LabReport = {
      stack: "vf-bgp",
      mode: "bgp",
      ok: false,
      checks: [
        {
          category: "underlay",
          name: "underlay ping master -> worker-1 (192.168.19.166)",
          ok: true,
          expected: "an ICMP echo reply",
          seen: "reply in 0.1 ms",
        },
        ...checks.slice(0, 3),
        {
          category: "routes",
          name: "routes on master",
          ok: false,
          expected: "routes derived from the datastore",
          seen: "not checked: etcd at 192.168.19.165:2379 is unreachable (see the daemons checks)",
        },
      ],
      bgp: {},
      routes: {},
      expectedRoutes: {},
      verifiedAt: "2026-12-01T22:00:00.000Z",
      durationMs: 1234,
    };
    await assertGolden("verify/summary-dead-daemons.txt", formatVerifySummary(report) + "\n");
  });
});

describe("which daemon failures verification asks again about", () => {
  const running = { state: "running", pid: 10 } as const;
  const unready = () => processCheck("calico-node on worker-1", running, undefined, 'phase "unready"');
  const dead = () => processCheck("BIRD on worker-1", { state: "gone", pid: 11 });
  const fine = () => processCheck("etcd on master", running);

  it("a live calico-node that is not ready yet is asked again until the deadline", () => {
    assert.equal(onlyCatchingUp([fine(), unready()]), true);
  });

  it("a dead daemon is not, alone or beside a catching-up one: it cannot pass between two deaths", () => {
    assert.equal(onlyCatchingUp([fine(), dead()]), false);
    assert.equal(onlyCatchingUp([unready(), dead()]), false);
  });

  it("nothing failed: nothing to ask again", () => {
    assert.equal(onlyCatchingUp([fine(), fine()]), false);
  });
});
