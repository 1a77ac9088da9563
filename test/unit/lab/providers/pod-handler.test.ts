import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { THIS_KERNEL, type HostExec } from "../../../../src/effects/host-exec.ts";
import type { RouteInfo } from "../../../../src/effects/links.ts";
import { diffInputs } from "../../../../src/lab/providers/handler.ts";
import {
  makePodHandler,
  type CniOutcome,
  type PodEffects,
  type PodInputs,
  type PodOutputs,
} from "../../../../src/lab/providers/pod-handler.ts";
import { Calls, boom, fakeHost } from "./fakes.ts";

const pod: PodInputs = {
  name: "pod-a",
  netns: "lab-pod-a",
  hostNetns: "lab-worker-1",
  host: "worker-1",
  namespace: "default",
  containerId: "lab-pod-a",
  manifestPath: "/w/.lab/lab/calico.yaml",
  runDir: "/w/.lab/lab",
  agentSocket: "/w/.lab/lab/worker-1/cni.sock",
  server: true,
  serverPort: 8080,
};
const running: PodOutputs = { ...pod, ip: "10.48.0.5", hostInterface: "cali0123456789a" };

/** What the fake host shows: namespaces, whether the echo server runs, the routes on the cali link. */
interface Seen {
  namespaces: string[];
  serverUp: boolean;
  routes: RouteInfo[];
  hostLink: boolean;
  add: CniOutcome;
}

function machine(calls: Calls, seen: Seen, host: HostExec = THIS_KERNEL): PodEffects {
  return {
    hostOf: () => host,
    createNetns: async (name, on) => calls.note("netns-add", name, on.where),
    deleteNetns: async (name) => calls.note("netns-del", name),
    netnsExists: async (name) => seen.namespaces.includes(name),
    cni: async (command, p) => {
      calls.note("cni", command, p.name);
      return command === "ADD" ? seen.add : { raw: "null" };
    },
    startServer: async (p) => calls.note("server-start", p.name),
    stopServer: async (p) => calls.note("server-stop", p.name),
    serverUp: async () => seen.serverUp,
    listLinks: async () => [{ ifname: "eth0", operstate: "UP", mtu: 1450, address: "aa:bb:cc:dd:ee:ff" }],
    listRoutes: async () => seen.routes,
    run: async (argv) => {
      calls.note("run", ...argv);
      return "";
    },
    tryRun: async (argv) => ({ exitCode: argv.includes("show") && !seen.hostLink ? 1 : 0 }),
  };
}

const healthy = (): Seen => ({
  namespaces: ["lab-pod-a", "lab-worker-1"],
  serverUp: true,
  routes: [{ dst: "10.48.0.5", dev: "cali0123456789a", scope: "link" }],
  hostLink: true,
  add: { ip: "10.48.0.5", hostInterface: "cali0123456789a", raw: "{}" },
});

describe("the pod handler", () => {
  it("replaces on a new identity; the echo server is switched in place", () => {
    const h = makePodHandler(machine(new Calls(), healthy()));
    assert.deepEqual(diffInputs(h.replaceOn, { ...pod }, { ...pod, hostNetns: "lab-master" }).replaces, [
      "hostNetns",
    ]);
    assert.deepEqual(diffInputs(h.replaceOn, { ...pod }, { ...pod, server: false }).replaces, []);
  });

  it("makes the pod's namespace on its host's kernel (a VM host's pods live in its VM)", async () => {
    const calls = new Calls();
    const h = makePodHandler(machine(calls, healthy(), fakeHost("vm-7002", calls)));
    const { outs } = await h.create(pod);
    assert.deepEqual([outs.ip, outs.hostInterface], ["10.48.0.5", "cali0123456789a"]);
    assert.deepEqual(calls.lines, ["netns-add lab-pod-a vm-7002", "cni ADD pod-a", "server-start pod-a"]);
  });

  it("undoes a create that fails midway (no address): CNI DEL, server stopped, namespace gone", async () => {
    const calls = new Calls();
    const seen = { ...healthy(), add: { raw: '{"ips":[]}' } };
    await assert.rejects(
      makePodHandler(machine(calls, seen)).create(pod),
      /returned no address: \{"ips":\[\]\}/,
    );
    assert.deepEqual(calls.lines, [
      "netns-add lab-pod-a this kernel",
      "cni ADD pod-a",
      "cni DEL pod-a",
      "server-stop pod-a",
      "netns-del lab-pod-a",
    ]);
  });

  it("still removes the namespace when the DEL of a failed create fails too", async () => {
    const calls = new Calls();
    const fx = machine(calls, healthy());
    const h = makePodHandler({
      ...fx,
      startServer: boom("echo server"),
      cni: (c, p) => (c === "DEL" ? boom("DEL")() : fx.cni(c, p)),
    });
    await assert.rejects(h.create(pod), /echo server failed/);
    assert.deepEqual(calls.of("netns-del"), ["netns-del lab-pod-a"]);
  });

  it("reads drift on the host's side; a pod or server gone reads as gone", async () => {
    const seen = healthy();
    const h = makePodHandler(machine(new Calls(), seen));
    assert.deepEqual(await h.read("x", running), running);
    seen.routes = [];
    assert.deepEqual((await h.read("x", running))?.drift, [
      "route 10.48.0.5/32 dev cali0123456789a in lab-worker-1 is missing",
    ]);
    seen.hostLink = false;
    assert.deepEqual((await h.read("x", running))?.drift, [
      "host interface cali0123456789a in lab-worker-1 is missing",
    ]);
    seen.serverUp = false;
    assert.equal(await h.read("x", running), undefined);
    seen.serverUp = true;
    seen.namespaces = [];
    assert.equal(await h.read("x", running), undefined);
  });

  it("repairs the route and neighbour in place on the pod's host, keeping its address", async () => {
    const calls = new Calls();
    const h = makePodHandler(machine(calls, healthy(), fakeHost("vm-7002", calls)));
    const out = await h.update!("x", { ...running, drift: ["route missing"] }, pod);
    assert.deepEqual([out.ip, out.hostInterface, out.drift], ["10.48.0.5", "cali0123456789a", undefined]);
    const ns = "on vm-7002 ip netns exec lab-worker-1";
    assert.deepEqual(calls.of("run"), [
      `run ${ns} ip route replace 10.48.0.5/32 dev cali0123456789a scope link`,
      `run ${ns} ip neigh replace 10.48.0.5 lladdr aa:bb:cc:dd:ee:ff dev cali0123456789a nud permanent`,
    ]);
  });

  it("re-adds through CNI when the host's interface is gone", async () => {
    const calls = new Calls();
    const seen = {
      ...healthy(),
      hostLink: false,
      add: { ip: "10.48.0.5", hostInterface: "cali99", raw: "{}" },
    };
    const out = await makePodHandler(machine(calls, seen)).update!("x", { ...running, drift: ["gone"] }, pod);
    assert.equal(out.hostInterface, "cali99");
    assert.deepEqual(calls.of("cni"), ["cni ADD pod-a"]);
  });

  it("deletes a pod whose CNI state is already gone without an error", async () => {
    const calls = new Calls();
    const fx = machine(calls, healthy());
    await makePodHandler({ ...fx, cni: boom("DEL") }).delete("x", running);
    assert.deepEqual(calls.lines, ["server-stop pod-a", "netns-del lab-pod-a"]);
  });
});
