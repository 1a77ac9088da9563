import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ROUTED_LAB } from "../../support/lab-fixtures.ts";
import { readLabConfig as parseLabConfig } from "../../../src/config/read.ts";
import {
  kubernetesPath,
  planFromState,
  planLab,
  sameSubnetHosts,
  underlayPingPairs,
  underlayRouteArgs,
} from "../../../src/lab/topology.ts";

describe("lab plan", () => {
  const r = parseLabConfig("bgp", {});
  assert.ok(r.ok);
  const plan = planLab(r.config);

  it("names every namespace after the stack", () => {
    assert.equal(plan.switchNetns, "bgp-underlay");
    assert.deepEqual(
      plan.hosts.map((h) => h.netns),
      ["bgp-master", "bgp-worker-1", "bgp-worker-2"],
    );
  });

  it("gives each host eth0 with its underlay address and a switch port named after it", () => {
    assert.deepEqual(plan.hosts[1], {
      name: "worker-1",
      netns: "bgp-worker-1",
      ifname: "eth0",
      port: "worker-1",
      bridge: "br0",
      address: "192.168.19.166",
      cidr: "192.168.19.166/24",
      subnet: "192.168.19.0/24",
      routes: [{ to: "default" }],
      labels: { worker: "no-1" },
      machine: { kind: "netns" },
    });
    assert.equal(plan.router, undefined);
    assert.deepEqual(plan.outside.routes, []);
  });

  it("plans VM hosts with backend vm: a MAC, an exec port and tmpfs folders each; the netns stack none", () => {
    assert.equal(plan.backend, "netns");
    assert.ok(plan.hosts.every((h) => h.machine.kind === "netns"));
    const v = parseLabConfig("lab", { backend: "vm" });
    assert.ok(v.ok);
    const vp = planLab(v.config);
    assert.equal(vp.backend, "vm");
    assert.deepEqual(
      vp.hosts.map((h) => {
        const m = h.machine;
        return m.kind === "vm" ? [h.port, m.mac, m.execPort, m.socketDir] : [h.port];
      }),
      [
        ["master", "52:54:00:ca:00:00", 7001, "/run/calico-lab/lab-master"],
        ["worker-1", "52:54:00:ca:00:01", 7002, "/run/calico-lab/lab-worker-1"],
        ["worker-2", "52:54:00:ca:00:02", 7003, "/run/calico-lab/lab-worker-2"],
      ],
    );
    const master = vp.hosts[0]!.machine;
    assert.equal(master.kind === "vm" && master.etcdDataDir, "/run/calico-lab/lab-etcd");
    assert.equal(vp.etcd.netns, "lab-master", "etcd runs on the master, in its VM");
    assert.equal(
      vp.etcd.clientNetns,
      "lab-outside",
      "its clients run here, on the outside host, not in the VM",
    );
    assert.equal(plan.etcd.clientNetns, plan.etcd.netns, "namespace hosts: its clients run in the master's");
  });

  it("reads back a plan stored before hosts had a machine: vm? is the VM's, none a namespace's", () => {
    const v = parseLabConfig("lab", { backend: "vm" });
    assert.ok(v.ok);
    const vp = planLab(v.config);
    const stored = (p: typeof vp) => ({
      ...p,
      hosts: p.hosts.map(({ machine, ...h }) => {
        if (machine.kind !== "vm") return h;
        const { kind: _kind, ...vm } = machine;
        return { ...h, vm };
      }),
    });
    assert.deepEqual(planFromState(stored(vp)), vp);
    assert.deepEqual(planFromState(stored(plan)), plan);
    assert.deepEqual(planFromState(vp), vp, "a plan stored now reads back as it is");
    const { clientNetns: _c, ...etcd } = vp.etcd;
    assert.deepEqual(
      planFromState({ ...vp, etcd }).etcd,
      { ...etcd, clientNetns: "lab-master" },
      "a plan stored before clientNetns runs the datastore's clients where they ran: the master's namespace",
    );
  });

  it("carries the Kubernetes setting; a plan stored before it existed reads back as none", () => {
    assert.equal(plan.kubernetes, "none");
    const k = parseLabConfig("k8s", { backend: "vm", kubernetes: "kubeadm" });
    assert.ok(k.ok);
    const kp = planLab(k.config);
    assert.equal(kp.kubernetes, "kubeadm");
    assert.deepEqual(planFromState(kp), kp);
    const { kubernetes: _k, ...older } = plan;
    assert.deepEqual(planFromState(older), plan);
  });

  it("branches on the setting through one exhaustive table", () => {
    const paths = { none: () => "lab pods", kubeadm: () => "kubelet pods" };
    assert.equal(kubernetesPath(plan, paths), "lab pods");
    assert.equal(kubernetesPath({ kubernetes: "kubeadm" }, paths), "kubelet pods");
  });

  it("pings every ordered pair of distinct hosts", () => {
    const pairs = underlayPingPairs(plan);
    assert.equal(pairs.length, 6);
    assert.ok(pairs.every((p) => p.from !== p.to));
    assert.deepEqual(pairs[0], {
      from: "master",
      fromNetns: "bgp-master",
      to: "worker-1",
      address: "192.168.19.166",
    });
  });

  it("pings the given pairs of host indexes, in their order, and refuses one that names no pair", () => {
    const pairs = underlayPingPairs(plan, [
      [2, 0],
      [0, 1],
    ]);
    assert.deepEqual(
      pairs.map((p) => `${p.from}>${p.to} ${p.address}`),
      ["worker-2>master 192.168.19.165", "master>worker-1 192.168.19.166"],
    );
    assert.throws(() => underlayPingPairs(plan, [[1, 1]]), /no host pair \[1, 1\] in 3 hosts/);
    assert.throws(() => underlayPingPairs(plan, [[0, 3]]), /no host pair \[0, 3\] in 3 hosts/);
  });
});

describe("lab plan, routed underlay", () => {
  const r = parseLabConfig("cs", ROUTED_LAB);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  const plan = planLab(r.config);

  it("puts each host on its subnet's bridge, with the router as its way out", () => {
    assert.deepEqual(
      plan.hosts.map((h) => [h.name, h.bridge, h.cidr, h.routes]),
      [
        ["master", "br0", "192.168.19.165/24", [{ to: "default", via: "192.168.19.1" }]],
        ["worker-1", "br0", "192.168.19.166/24", [{ to: "default", via: "192.168.19.1" }]],
        ["worker-2", "br1", "192.168.20.167/24", [{ to: "default", via: "192.168.20.1" }]],
      ],
    );
    assert.ok(sameSubnetHosts(plan.hosts[0]!, plan.hosts[1]!));
    assert.ok(!sameSubnetHosts(plan.hosts[1]!, plan.hosts[2]!));
  });

  it("plans a router namespace with the first address of each subnet", () => {
    assert.deepEqual(plan.router, {
      name: "router",
      netns: "cs-router",
      legs: [
        { ifname: "eth0", port: "router.a", bridge: "br0", address: "192.168.19.1", cidr: "192.168.19.1/24" },
        { ifname: "eth1", port: "router.b", bridge: "br1", address: "192.168.20.1", cidr: "192.168.20.1/24" },
      ],
    });
    assert.deepEqual(
      plan.subnets.map((s) => s.bridge),
      ["br0", "br1"],
    );
  });

  it("gives the outside host a route to the far subnet only (it must not know the pods)", () => {
    assert.deepEqual(plan.outside.routes, [{ to: "192.168.20.0/24", via: "192.168.19.1" }]);
    assert.deepEqual(underlayRouteArgs(plan.outside.routes[0]!, "eth0"), [
      "192.168.20.0/24",
      "via",
      "192.168.19.1",
      "dev",
      "eth0",
    ]);
  });
});
