// The lab's CNI executable (the Go shim) and the agent's socket, end to end without root: the real
// executable, a real unix socket, the agent's CniServer running the plugin's own code.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureGoProgram } from "../../../../src/build/go-programs.ts";
import { CniServer, parseCniRequest } from "../../../../src/agent/cni/server.ts";
import { randomPodMac, workloadBatches, WORKLOAD_SYSCTLS } from "../../../../src/agent/cni/workload.ts";
import { assertGolden } from "../../../support/golden.ts";
import { versionResult } from "../../../../src/agent/cni/args.ts";

/** Runs the executable (asynchronously: the server answering it lives in this process). */
function call(shim: string, env: Record<string, string>, conf: object | string) {
  return new Promise<{ status: number | null; stdout: string }>((resolve, reject) => {
    const child = spawn(shim, [], { env: { PATH: process.env.PATH ?? "", ...env } });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout }));
    child.stdin.end(typeof conf === "string" ? conf : JSON.stringify(conf));
  });
}

describe("the CNI executable hands each call to the agent's socket", () => {
  let dir = "";
  let shim = "";
  let server: CniServer;
  const logs: string[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "cni-sock-"));
    shim = await ensureGoProgram("calico-cni");
    server = new CniServer({
      socketPath: join(dir, "cni.sock"),
      datastoreFor: () => undefined,
      log: (m) => logs.push(m),
    });
    await server.start();
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers VERSION itself, without the agent", async () => {
    const r = await call(shim, { CNI_COMMAND: "VERSION" }, "{}");
    assert.equal(r.status, 0);
    assert.deepEqual(JSON.parse(r.stdout).supportedVersions, ["0.3.0", "0.3.1", "0.4.0", "1.0.0"]);
    // The executable answers VERSION itself, so its list must be the plugin's own (args.ts).
    assert.deepEqual(JSON.parse(r.stdout), versionResult());
  });

  it("relays the plugin's answer and exit status: a call the plugin refuses is its error JSON", async () => {
    const conf = {
      cniVersion: "1.0.0",
      name: "k8s-pod-network",
      type: "calico",
      calico_lab_agent_socket: join(dir, "cni.sock"),
    };
    const r = await call(shim, { CNI_COMMAND: "ADD" }, conf);
    assert.equal(r.status, 1);
    assert.deepEqual(JSON.parse(r.stdout), {
      cniVersion: "1.0.0",
      code: 4,
      msg: "CNI_CONTAINERID is required for ADD",
    });
    assert.match(logs.at(-1) ?? "", /^CNI ADD: failed in \d+ ms: /);
  });

  it("says when no agent answers (golden), and when the config names no socket", async () => {
    const gone = join(dir, "gone.sock");
    const r = await call(
      shim,
      { CNI_COMMAND: "ADD" },
      { cniVersion: "0.3.1", calico_lab_agent_socket: gone },
    );
    assert.equal(r.status, 1);
    await assertGolden("cni/agent-absent.txt", r.stdout.split(dir).join("<dir>"));
    const none = await call(shim, { CNI_COMMAND: "DEL" }, { cniVersion: "1.0.0" });
    assert.equal(none.status, 1);
    assert.equal(JSON.parse(none.stdout).code, 7);
    assert.match(JSON.parse(none.stdout).msg, /no "calico_lab_agent_socket"/);
  });

  it("stop removes the socket", async () => {
    const s = new CniServer({
      socketPath: join(dir, "other.sock"),
      datastoreFor: () => undefined,
      log: () => {},
    });
    await s.start();
    assert.ok(existsSync(join(dir, "other.sock")));
    await s.stop();
    assert.equal(existsSync(join(dir, "other.sock")), false);
  });
});

describe("a request on the socket", () => {
  it("keeps only what a CNI call is given, and says what is wrong with a bad one", () => {
    assert.deepEqual(
      parseCniRequest(
        JSON.stringify({ env: { CNI_COMMAND: "DEL", NODENAME: "n", HOME: "/root" }, stdin: "{}" }),
      ),
      {
        env: { CNI_COMMAND: "DEL", NODENAME: "n" },
        stdin: "{}",
      },
    );
    assert.match(String(parseCniRequest("nope")), /^the request is not JSON: /);
    assert.equal(parseCniRequest(JSON.stringify({ env: {} })), `the request has no "stdin"`);
    assert.equal(
      parseCniRequest(JSON.stringify({ env: { CNI_COMMAND: 1 }, stdin: "" })),
      `the request's "env" must map names to strings`,
    );
  });
});

describe("wiring a pod", () => {
  it("is three ip batches: the pair with both MACs, the host side up with route and neighbour, the pod side", () => {
    const b = workloadBatches(
      {
        hostNetns: "lab-w1",
        podNetns: "lab-p1",
        hostIf: "cali0123456789a",
        podIf: "eth0",
        ip: "10.244.1.5",
        mtu: 1440,
      },
      "02:11:22:33:44:55",
    );
    assert.equal(
      b.create,
      "link add cali0123456789a mtu 1440 address ee:ee:ee:ee:ee:ee type veth peer name eth0 address 02:11:22:33:44:55 netns lab-p1\n",
    );
    assert.equal(
      b.hostUp,
      "link set dev cali0123456789a up\n" +
        "route replace 10.244.1.5/32 dev cali0123456789a scope link\n" +
        "neigh replace 10.244.1.5 lladdr 02:11:22:33:44:55 dev cali0123456789a nud permanent\n",
    );
    assert.equal(
      b.pod,
      "link set dev lo up\naddr add 10.244.1.5/32 dev eth0\nlink set dev eth0 mtu 1440 up\n" +
        "route replace 169.254.1.1 dev eth0 scope link\nroute replace default via 169.254.1.1 dev eth0\n",
    );
    assert.deepEqual(WORKLOAD_SYSCTLS("cali0123456789a"), [
      ["net/ipv4/conf/cali0123456789a/proxy_arp", "1"],
      ["net/ipv4/neigh/cali0123456789a/proxy_delay", "0"],
      ["net/ipv4/conf/cali0123456789a/forwarding", "1"],
    ]);
    assert.throws(
      () =>
        workloadBatches(
          {
            hostNetns: "h",
            podNetns: "p",
            hostIf: "cali0",
            podIf: "eth0",
            ip: "10.0.0.1; reboot",
            mtu: 1440,
          },
          "02:00:00:00:00:01",
        ),
      /invalid IPv4/,
    );
  });

  it("gives the pod a locally administered unicast MAC", () => {
    assert.equal(randomPodMac(new Uint8Array([0xff, 1, 2, 3, 4, 5])), "fe:01:02:03:04:05");
    assert.equal(randomPodMac(new Uint8Array([0x00, 0xaa, 0xbb, 0xcc, 0xdd, 0xee])), "02:aa:bb:cc:dd:ee");
    assert.match(randomPodMac(), /^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/);
  });
});
