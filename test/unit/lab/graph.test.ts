// labGraph: the lab's resources as data, for the default three-host lab and a routed one. Pure.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ROUTED_LAB } from "../../support/lab-fixtures.ts";
import { readLabConfig as parseLabConfig } from "../../../src/config/read.ts";
import { LAB_DEFAULTS, PRESETS, resolveVariant } from "../../../src/manifest/variant.ts";
import { planLab } from "../../../src/lab/topology.ts";
import {
  EXTERNAL,
  labGraph,
  outputRef,
  prerequisites,
  withoutNodes,
  type LabGraph,
  type LabNode,
} from "../../../src/lab/graph.ts";

function graphOf(stack: string, raw: Record<string, unknown>): LabGraph {
  const r = parseLabConfig(stack, raw);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  const variant = resolveVariant(LAB_DEFAULTS, PRESETS[r.config.mode]);
  return labGraph(planLab(r.config), { variant, runDir: `/lab/${stack}`, checksVersion: "c0ffee" });
}

const node = (g: LabGraph, name: string): LabNode => {
  const n = g.nodes.find((x) => x.name === name);
  assert.ok(n, `no node ${name}`);
  return n;
};
const summary = (g: LabGraph) =>
  g.nodes.map((n) => `${n.group ? `${n.group.name}/` : ""}${n.kind}:${n.name}`);

describe("labGraph, the default lab (three hosts, four pods)", () => {
  const g = graphOf("bgp", { mode: "bgp" });

  it("lists every resource once, in the order the stack declares them, under its component", () => {
    assert.deepEqual(summary(g), [
      "underlay/netns:underlay-netns",
      "underlay/bridge:underlay-bridge",
      "master/netns:master-netns",
      "master/underlayPort:master-eth0",
      "worker-1/netns:worker-1-netns",
      "worker-1/underlayPort:worker-1-eth0",
      "worker-2/netns:worker-2-netns",
      "worker-2/underlayPort:worker-2-eth0",
      "outside/netns:outside-netns",
      "outside/underlayPort:outside-eth0",
      "etcd:etcd",
      "calicoResources:bgp-config",
      "agent:master-calico-node",
      "agent:worker-1-calico-node",
      "agent:worker-2-calico-node",
      "pod:busybox-1",
      "pod:busybox-2",
      "pod:busybox-3",
      "pod:echo",
      "verification:verify",
    ]);
  });

  it("wires a host's port to its namespace and bridge, and gives it the plan's address and routes", () => {
    assert.deepEqual(node(g, "worker-1-eth0"), {
      kind: "underlayPort",
      name: "worker-1-eth0",
      group: { type: "calico-lab:lab:Host", name: "worker-1" },
      inputs: {
        netns: "bgp-worker-1",
        ifname: "eth0",
        switchNetns: "bgp-underlay",
        port: "worker-1",
        bridge: "br0",
        cidr: "192.168.19.166/24",
        mtu: 1500,
        routes: [{ to: "default" }],
      },
      dependsOn: ["worker-1-netns", "underlay-bridge"],
    });
  });

  it("names other resources' outputs where an input is one: etcd's endpoint, the manifest, pod addresses", () => {
    assert.deepEqual(
      (node(g, "bgp-config").inputs as { endpoint: unknown }).endpoint,
      outputRef("etcd", "endpoint"),
    );
    const agent = node(g, "worker-2-calico-node");
    assert.equal(agent.kind, "agent");
    assert.deepEqual(agent.inputs, {
      hostNetns: "bgp-worker-2",
      nodeName: "worker-2",
      manifestPath: outputRef(EXTERNAL.manifest, "path"),
      runDir: "/lab/bgp/worker-2",
      labels: { worker: "no-2" },
      underlayRoutes: [{ to: "default" }],
    });
    assert.deepEqual(prerequisites(agent), [
      "worker-2-eth0",
      "underlay-bridge",
      "etcd",
      "bgp-config",
      EXTERNAL.manifest,
    ]);
    const v = node(g, "verify");
    assert.ok(v.kind === "verification");
    assert.deepEqual((v.inputs as { pods: unknown[] }).pods[0], {
      name: "busybox-1",
      ip: outputRef("busybox-1", "ip"),
      host: "worker-1",
      server: false,
    });
    assert.deepEqual(prerequisites(v).sort(), [
      "@runFolder",
      "bgp-config",
      "busybox-1",
      "busybox-2",
      "busybox-3",
      "echo",
      "outside-eth0",
    ]);
  });

  it("puts etcd on the master after its port and the run folder, and pods after their host's agent", () => {
    assert.deepEqual(node(g, "etcd").dependsOn, ["master-eth0", EXTERNAL.runFolder]);
    assert.deepEqual(node(g, "echo").dependsOn, ["worker-2-calico-node", EXTERNAL.runFolder]);
  });

  it("drops nodes nothing kept needs, and refuses to drop one that is needed", () => {
    const noChecks = withoutNodes(g, (n) => n.kind === "verification");
    assert.equal(noChecks.nodes.length, g.nodes.length - 1);
    assert.throws(() => withoutNodes(g, (n) => n.name === "etcd"), /bgp-config needs etcd/);
  });
});

describe("labGraph, a routed lab with route reflectors and an outside router", () => {
  const g = graphOf("cs", {
    ...ROUTED_LAB,
    routeReflectors: ["master"],
    outside: { address: "192.168.19.200", asNumber: 65001 },
  });

  it("adds a second bridge and the router's namespace and legs to the underlay", () => {
    assert.deepEqual(summary(g).slice(0, 6), [
      "underlay/netns:underlay-netns",
      "underlay/bridge:underlay-bridge",
      "underlay/bridge:underlay-br1",
      "underlay/netns:underlay-router-netns",
      "underlay/underlayPort:underlay-router-eth0",
      "underlay/underlayPort:underlay-router-eth1",
    ]);
    assert.deepEqual(node(g, "underlay-router-netns").inputs, { name: "cs-router", forwarding: true });
    assert.deepEqual(node(g, "underlay-router-eth1").dependsOn, ["underlay-router-netns", "underlay-br1"]);
  });

  it("puts a far host on the second bridge, and every agent after the router's legs", () => {
    const port = node(g, "worker-2-eth0");
    assert.deepEqual(port.dependsOn, ["worker-2-netns", "underlay-br1"]);
    assert.deepEqual((port.inputs as { routes: unknown }).routes, [{ to: "default", via: "192.168.20.1" }]);
    assert.deepEqual(node(g, "master-calico-node").dependsOn.slice(0, 5), [
      "master-eth0",
      "underlay-bridge",
      "underlay-br1",
      "underlay-router-eth0",
      "underlay-router-eth1",
    ]);
  });

  it("gives a route reflector its cluster id and label, and the outside router waits for every agent", () => {
    const rr = node(g, "master-calico-node");
    assert.equal((rr.inputs as { rrClusterId?: string }).rrClusterId, "244.0.0.1");
    assert.equal((rr.inputs as { labels: Record<string, string> }).labels["route-reflector"], "true");
    const router = node(g, "outside-router");
    assert.deepEqual(router.dependsOn, [
      "outside-eth0",
      EXTERNAL.runFolder,
      "master-calico-node",
      "worker-1-calico-node",
      "worker-2-calico-node",
    ]);
    assert.ok(node(g, "verify").dependsOn.includes("outside-router"));
  });
});
