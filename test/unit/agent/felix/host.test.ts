// What the agent keeps on its host, planned from this node's workload endpoints and the lab's facts
// (its address and underlay routes), and diffed against a kernel's state. Pure: no namespaces.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  formatUnderlayRoutes,
  hostChanges,
  parseUnderlayRoutes,
  planHost,
  workloadRoutes,
  type HostState,
} from "../../../../src/agent/felix/host.ts";
import { LocalEndpoints, WORKLOAD_ENDPOINT_PREFIX } from "../../../../src/agent/felix/endpoints.ts";
import { newResource, type WorkloadEndpoint } from "../../../../src/agent/datastore/keys.ts";
import { daemonArgv, parseDaemonArgs } from "../../../../src/agent/daemon/args.ts";

function wep(node: string, pod: string, ip: string, iface: string, mac?: string): WorkloadEndpoint {
  return newResource(
    "WorkloadEndpoint",
    { name: `${node}-k8s-${pod}-eth0`, namespace: "default" },
    {
      orchestrator: "k8s",
      node,
      pod,
      endpoint: "eth0",
      containerID: `c-${pod}`,
      ipNetworks: [`${ip}/32`],
      profiles: ["kns.default"],
      interfaceName: iface,
      ...(mac ? { mac } : {}),
    },
  );
}

const A = wep("worker-1", "a", "10.244.1.2", "cali0123456789a", "AA:BB:CC:00:00:01");
const B = wep("worker-1", "b", "10.244.1.3", "calibbbbbbbbbbb");
const OTHER = wep("worker-2", "c", "10.244.2.2", "cali00000000002");

const plan = planHost({
  underlayIf: "eth0",
  address: { ip: "10.99.0.12", prefixLength: 24 },
  underlayRoutes: [{ to: "default" }],
  endpoints: [B, A, OTHER],
  node: "worker-1",
});

/** The kernel as the lab leaves it: address, default route, each pod's route and neighbour. */
function healthy(): HostState {
  return {
    underlay: { up: true, cidrs: ["10.99.0.12/24"] },
    routes: [
      { dst: "default", dev: "eth0", scope: "link" },
      { dst: "10.99.0.0/24", dev: "eth0", scope: "link" },
      { dst: "10.244.2.0/26", gateway: "10.99.0.13", dev: "eth0" },
      { dst: "10.244.1.2", dev: "cali0123456789a", scope: "link" },
      { dst: "10.244.1.3", dev: "calibbbbbbbbbbb", scope: "link" },
    ],
    neighbours: [
      { dst: "10.244.1.2", dev: "cali0123456789a", lladdr: "aa:bb:cc:00:00:01", state: ["PERMANENT"] },
    ],
    links: new Set(["lo", "eth0", "cali0123456789a", "calibbbbbbbbbbb"]),
  };
}

describe("felix: the host's routes and addresses to own", () => {
  it("plans a /32 per local endpoint with its neighbour, none for other nodes' endpoints", () => {
    assert.deepEqual(plan.workloads, [
      { dst: "10.244.1.2/32", dev: "cali0123456789a", mac: "aa:bb:cc:00:00:01" },
      { dst: "10.244.1.3/32", dev: "calibbbbbbbbbbb" },
    ]);
    // Not Calico's interface names, not IPv4 /32: nothing to route.
    const odd = wep("worker-1", "d", "10.244.1.4", "eth1");
    const v6 = { ...A, spec: { ...A.spec, ipNetworks: ["fd00::2/128", "10.244.1.9/30"] } };
    assert.deepEqual(workloadRoutes([odd, v6], "worker-1"), []);
  });

  it("changes nothing when the kernel holds the plan", () => {
    assert.deepEqual(hostChanges(plan, healthy()), { batch: [], waiting: [] });
  });

  it("puts back a deleted workload /32, its neighbour, and the default route", () => {
    const s = healthy();
    const state: HostState = {
      ...s,
      routes: s.routes.filter((r) => r.dst !== "10.244.1.2" && r.dst !== "default"),
      neighbours: [],
    };
    assert.deepEqual(hostChanges(plan, state).batch, [
      "route replace default dev eth0",
      "route replace 10.244.1.2/32 dev cali0123456789a scope link",
      "neigh replace 10.244.1.2 lladdr aa:bb:cc:00:00:01 dev cali0123456789a nud permanent",
    ]);
  });

  it("a routed underlay's default route is through its router; another gateway is not it", () => {
    const routed = { ...plan, underlayRoutes: parseUnderlayRoutes("default via 10.99.1.1") };
    const s = healthy();
    const state = { ...s, routes: [...s.routes.filter((r) => r.dst !== "default")] };
    assert.deepEqual(hostChanges(routed, state).batch, ["route replace default via 10.99.1.1 dev eth0"]);
    state.routes.push({ dst: "default", gateway: "10.99.1.254", dev: "eth0" });
    assert.deepEqual(hostChanges(routed, state).batch, ["route replace default via 10.99.1.1 dev eth0"]);
    state.routes.push({ dst: "default", gateway: "10.99.1.1", dev: "eth0" });
    assert.deepEqual(hostChanges(routed, state).batch, []);
  });

  it("the address comes back at once; routes wait while the interface is down", () => {
    const s = healthy();
    const down: HostState = {
      ...s,
      underlay: { up: false, cidrs: [] },
      routes: s.routes.filter((r) => r.dev !== "eth0"),
    };
    assert.deepEqual(hostChanges(plan, down), {
      batch: ["addr replace 10.99.0.12/24 dev eth0"],
      waiting: ["default dev eth0"],
    });
    // Up again (the kernel keeps the address over a flap): the default route.
    const up = { ...down, underlay: { up: true, cidrs: ["10.99.0.12/24"] } };
    assert.deepEqual(hostChanges(plan, up).batch, ["route replace default dev eth0"]);
  });

  it("a workload whose interface is not there (yet, or any more) gets no route", () => {
    const s = healthy();
    const state = { ...s, routes: [], links: new Set(["eth0"]) };
    assert.deepEqual(hostChanges(plan, state).batch, ["route replace default dev eth0"]);
  });

  it("--underlay-routes: parsed, printed back, refused with the field and a valid form", () => {
    assert.deepEqual(parseUnderlayRoutes("default, 10.99.1.0/24 via 10.99.0.1"), [
      { to: "default" },
      { to: "10.99.1.0/24", via: "10.99.0.1" },
    ]);
    assert.equal(formatUnderlayRoutes(parseUnderlayRoutes("default via 10.99.1.1")), "default via 10.99.1.1");
    assert.throws(
      () => parseUnderlayRoutes("default gw 10.0.0.1"),
      /^Error: invalid underlay route "default gw 10.0.0.1" in --underlay-routes: want "default", "default via <IPv4>" or "<CIDR> via <IPv4>"$/,
    );
    assert.throws(() => parseUnderlayRoutes("10.99.1.0 via 10.99.0.1"), /invalid underlay route/);
    const argv = ["--manifest=m", "--nodename=n", "--run-dir=d", "--underlay-routes", "default via 10.9.0.1"];
    const a = parseDaemonArgs(argv);
    assert.deepEqual(a.underlayRoutes, [{ to: "default", via: "10.9.0.1" }]);
    assert.deepEqual(parseDaemonArgs(daemonArgv(a)), a);
    assert.equal(parseDaemonArgs(["--manifest=m", "--nodename=n", "--run-dir=d"]).underlayRoutes, undefined);
  });
});

describe("felix: this node's workload endpoints from the datastore feed", () => {
  const key = (n: string) => `${WORKLOAD_ENDPOINT_PREFIX}default/${n}`;
  const kv = (n: string, e: WorkloadEndpoint, rev: string) => ({
    key: key(n),
    value: JSON.stringify(e),
    modRevision: rev,
  });

  it("keeps only this node's endpoints; only their changes matter", () => {
    const c = new LocalEndpoints("worker-1");
    c.load("10", [kv("a", A, "5"), kv("c", OTHER, "6")]);
    assert.deepEqual(
      c.list().map((e) => e.spec.pod),
      ["a"],
    );
    assert.equal(c.apply(key("c"), JSON.stringify({ ...OTHER, metadata: { name: "x" } }), "11"), false);
    assert.equal(c.apply(key("b"), JSON.stringify(B), "12"), true);
    assert.equal(c.apply(key("b"), JSON.stringify(B), "13"), false, "the same endpoint rewritten");
    assert.equal(c.apply(key("a"), null, "14"), true);
    assert.equal(c.apply(key("c"), null, "15"), false, "another node's pod deleted");
    assert.deepEqual(
      c.list().map((e) => e.spec.pod),
      ["b"],
    );
  });

  it("orders events and full reads by revision", () => {
    const c = new LocalEndpoints("worker-1");
    c.load("10", [kv("a", A, "5")]);
    assert.equal(c.apply(key("a"), null, "9"), false, "older than the read");
    assert.equal(c.apply(key("b"), JSON.stringify(B), "20"), true);
    // A read at 15 (started before the event at 20) keeps the newer event, and forgets the deleted a.
    c.load("15", [kv("b", B, "4")]);
    assert.deepEqual(
      c.list().map((e) => e.spec.pod),
      ["b"],
    );
    assert.equal(c.apply(key("a"), JSON.stringify(A), "16"), true);
    assert.equal(c.apply(key("a"), null, "17"), true);
    assert.equal(c.apply(key("a"), JSON.stringify(A), "17"), false, "a replay of an older revision");
    assert.equal(c.apply(key("x"), "not json", "18"), false);
  });
});
