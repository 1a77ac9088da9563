// The staged config reader on the lab's topology: defaults, routed underlays, pod placement, and each
// refusal, its text pinned by a golden file.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULTS } from "../../../src/config/model.ts";
import { readLabConfig } from "../../../src/config/read.ts";
import { formatProblems } from "../../../src/problems.ts";
import { assertGolden } from "../../support/golden.ts";

describe("lab config", () => {
  it("defaults to the seeds' three hosts at .165-.167 on 192.168.19.0/24", () => {
    const r = readLabConfig("bgp", {});
    assert.ok(r.ok);
    assert.deepEqual(
      r.config.hosts.map((h) => [h.name, h.address]),
      [
        ["master", "192.168.19.165"],
        ["worker-1", "192.168.19.166"],
        ["worker-2", "192.168.19.167"],
      ],
    );
    assert.equal(r.config.podCidr, DEFAULTS.podCidr);
    assert.equal(r.config.underlayPrefixLength, 24);
    assert.equal(r.config.mtu, 1500);
  });

  it("reads a routed underlay: hosts in either subnet, auto addresses in the first", () => {
    const r = readLabConfig("cs", {
      mode: "crosssubnet",
      routedCidr: "192.168.20.0/24",
      hosts: ["master", { name: "far", address: "192.168.20.10" }],
    });
    assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
    assert.deepEqual(r.config.routed, { cidr: "192.168.20.0/24", prefixLength: 24 });
    assert.deepEqual(
      r.config.hosts.map((h) => h.address),
      ["192.168.19.165", "192.168.20.10"],
    );
  });

  it("places seed-like default pods on the workers, with the echo server on the last", () => {
    const r = readLabConfig("bgp", {});
    assert.ok(r.ok);
    assert.deepEqual(r.config.pods, [
      { name: "busybox-1", host: "worker-1", server: false },
      { name: "busybox-2", host: "worker-2", server: false },
      { name: "busybox-3", host: "worker-1", server: false },
      { name: "echo", host: "worker-2", server: true },
    ]);
    assert.deepEqual(r.config.outside, { address: "192.168.19.200" });
    assert.deepEqual(r.config.routeReflectors, []);
  });

  it("makes namespace hosts by default, VM hosts with backend vm", () => {
    const ns = readLabConfig("bgp", {});
    assert.ok(ns.ok);
    assert.equal(ns.config.backend, "netns");
    const vm = readLabConfig("bgp", { backend: "vm" });
    assert.ok(vm.ok);
    assert.equal(vm.config.backend, "vm");
  });

  it("is no Kubernetes cluster by default; kubeadm on VM hosts in any mode", () => {
    const none = readLabConfig("bgp", {});
    assert.ok(none.ok);
    assert.equal(none.config.kubernetes, "none");
    for (const mode of ["ipip", "bgp", "vxlan", "crosssubnet"]) {
      const r = readLabConfig("k8s", { backend: "vm", kubernetes: "kubeadm", mode });
      assert.ok(r.ok, `${mode}: ${JSON.stringify(!r.ok && r.problems)}`);
      assert.equal(r.config.kubernetes, "kubeadm");
    }
    // The seeds' label, node-role.kubernetes.io/... is for kubectl; prefixes kubelet owns are its to set.
    const own = readLabConfig("k8s", {
      backend: "vm",
      kubernetes: "kubeadm",
      hosts: ["master", { name: "w", labels: { "node.kubernetes.io/pool": "a" } }],
      pods: [{ name: "p", host: "w" }],
    });
    assert.ok(own.ok, JSON.stringify(!own.ok && own.problems));
  });

  it("places pods by nodeSelector on the first host with those labels", () => {
    const r = readLabConfig("bgp", { pods: [{ name: "p", nodeSelector: { worker: "no-2" } }] });
    assert.ok(r.ok);
    assert.equal(r.config.pods[0]!.host, "worker-2");
  });

  it("takes host objects with addresses and labels", () => {
    const r = readLabConfig("lab", {
      mode: "vxlan",
      underlayCidr: "10.77.0.0/24",
      hosts: [
        { name: "a", address: "10.77.0.1" },
        { name: "b", labels: { worker: "no-1" } },
      ],
    });
    assert.ok(r.ok);
    assert.deepEqual(r.config.hosts, [
      { name: "a", address: "10.77.0.1", labels: {} },
      { name: "b", address: "10.77.0.166", labels: { worker: "no-1" } },
    ]);
  });

  // Each case is rejected with every problem listed; the message text is product, pinned by golden files.
  const bad: Record<string, { stack?: string; raw: Record<string, unknown>; keys?: string[] }> = {
    "unknown-mode": { raw: { mode: "ipipp" } },
    "unknown-backend": { raw: { backend: "qemu" } },
    "kubernetes-unknown": { raw: { backend: "vm", kubernetes: "k3s" } },
    "kubernetes-on-netns": { raw: { kubernetes: "kubeadm" } },
    "kubernetes-pod-on-master": {
      raw: {
        backend: "vm",
        kubernetes: "kubeadm",
        pods: [
          { name: "p1", host: "master" },
          { name: "p2", nodeSelector: { worker: "no-2" } },
        ],
      },
    },
    "kubernetes-label-kubelet-may-not-set": {
      raw: {
        backend: "vm",
        kubernetes: "kubeadm",
        hosts: [
          "master",
          { name: "worker-1", labels: { "node-role.kubernetes.io/worker": "", worker: "no-1" } },
        ],
      },
    },
    "too-many-vm-hosts": {
      raw: { backend: "vm", hosts: Array.from({ length: 9 }, (_, i) => ({ name: `h${i + 1}` })) },
    },
    "underlay-not-cidr": { raw: { underlayCidr: "192.168.19.0" } },
    "underlay-host-bits": { raw: { underlayCidr: "192.168.19.5/24" } },
    "pod-overlaps-underlay": { raw: { podCidr: "192.168.0.0/16" } },
    "pod-overlaps-services": { raw: { podCidr: "10.96.0.0/16" } },
    "duplicate-host-names": { raw: { hosts: ["master", "worker", "master"] } },
    "bad-host-name": { raw: { hosts: ["Master", "worker_1", "a-very-long-host-name-x"] } },
    "reserved-host-name": { raw: { hosts: ["master", "underlay"] } },
    "too-many-hosts": {
      raw: { underlayCidr: "10.0.0.0/29", hostOffset: 2, hosts: ["a", "b", "c", "d", "e", "f"] },
    },
    "address-outside-underlay": { raw: { hosts: [{ name: "a", address: "10.1.1.1" }, "b"] } },
    "duplicate-address": {
      raw: {
        hosts: [
          { name: "a", address: "192.168.19.10" },
          { name: "b", address: "192.168.19.10" },
        ],
      },
    },
    "bad-mtu": { raw: { mtu: 100000 } },
    "empty-hosts": { raw: { hosts: [] } },
    "unknown-key": { raw: { mdoe: "bgp" }, keys: ["calico-lab:mdoe"] },
    "bad-stack-name": { stack: "My_Stack", raw: {} },
    "pod-on-unknown-host": { raw: { pods: [{ name: "p1", host: "worker-9" }] } },
    "pod-selector-matches-no-host": { raw: { pods: [{ name: "p1", nodeSelector: { worker: "no-7" } }] } },
    "pod-bad-name": { raw: { pods: [{ name: "Pod_1", host: "master" }] } },
    "pod-duplicate": {
      raw: {
        pods: [
          { name: "p1", host: "master" },
          { name: "p1", host: "worker-1" },
        ],
      },
    },
    "pod-named-like-a-host": { raw: { pods: [{ name: "worker-1", host: "worker-1" }] } },
    "pod-without-placement": { raw: { pods: [{ name: "p1" }] } },
    "rr-stack-without-reflectors": { raw: { routeReflectors: [] } },
    "rr-unknown-host": { raw: { routeReflectors: ["rr-9"] } },
    "rr-every-host": { raw: { routeReflectors: ["master", "worker-1", "worker-2"] } },
    "outside-not-in-underlay": { raw: { outside: { address: "10.9.9.9" } } },
    "outside-takes-host-address": { raw: { outside: { address: "192.168.19.166" } } },
    "outside-bad-as": { raw: { outside: { asNumber: -5 } } },
    "routed-overlaps-underlay": { raw: { mode: "crosssubnet", routedCidr: "192.168.19.128/25" } },
    "routed-needs-encapsulation": {
      raw: {
        mode: "bgp",
        routedCidr: "192.168.20.0/24",
        hosts: ["m", { name: "a", address: "192.168.20.5" }],
      },
    },
    "routed-host-on-router-address": {
      raw: {
        mode: "crosssubnet",
        routedCidr: "192.168.20.0/24",
        hosts: [
          { name: "a", address: "192.168.19.5" },
          { name: "b", address: "192.168.20.1" },
        ],
      },
    },
    "routed-host-in-neither-subnet": {
      raw: {
        mode: "crosssubnet",
        routedCidr: "192.168.20.0/24",
        hosts: ["m", { name: "a", address: "192.168.21.5" }],
      },
    },
    "routed-not-cidr": { raw: { mode: "crosssubnet", routedCidr: "192.168.20.0" } },
    "many-at-once": {
      raw: { mode: "fast", podCidr: "10.244.0.1/16", hosts: ["m", "m"], mtu: "big" },
    },
  };
  for (const [name, c] of Object.entries(bad)) {
    it(`rejects ${name}`, async () => {
      const r = readLabConfig(c.stack ?? "lab", c.raw, c.keys ?? []);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.ok(r.problems.length > 0);
      for (const p of r.problems) {
        assert.ok(p.field && p.message && p.fix, `problem lacks field, message or fix: ${JSON.stringify(p)}`);
      }
      await assertGolden(`config/${name}.txt`, formatProblems('stack "lab"', r.problems) + "\n");
    });
  }
});
