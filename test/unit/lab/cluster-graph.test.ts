// A kubeadm lab's graph: Kubernetes nodes, Calico applied with kubectl and Kubernetes pods stand where the
// lab's own agents and pods stand; the VMs get a Kubernetes node's memory; etcd is the one kube-apiserver needs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readLabConfig } from "../../../src/config/read.ts";
import { LAB_DEFAULTS, PRESETS, resolveVariant } from "../../../src/manifest/variant.ts";
import { planLab } from "../../../src/lab/topology.ts";
import { labGraph, prerequisites, type LabNode } from "../../../src/lab/graph.ts";
import type { ClusterImages } from "../../../src/lab/cluster-graph.ts";
import { K8S_ETCD } from "../../../src/kubernetes/node-runtime.ts";

const img = (name: string) => ({
  ref: `docker.io/x/${name}:1`,
  archive: `/images/${name}.tar`,
  digest: `sha256:${name}`,
});
const IMAGES: ClusterImages = {
  pause: img("pause"),
  controlPlane: [img("kube-apiserver"), img("kube-controller-manager"), img("kube-scheduler")],
  calicoNode: {
    ref: "docker.io/calico-lab/node:0.1.0-abc",
    archive: "/images/calico-node.tar",
    digest: "sha256:node",
  },
  busybox: img("busybox"),
  echo: img("echo"),
};

function graph() {
  const r = readLabConfig("ipip-k8s", {
    mode: "ipip",
    backend: "vm",
    kubernetes: "kubeadm",
    hosts: [
      { name: "master", address: "192.168.19.165" },
      { name: "worker-1", address: "192.168.19.166", labels: { worker: "no-1" } },
      { name: "worker-2", address: "192.168.19.167", labels: { worker: "no-2" } },
    ],
  });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  const variant = resolveVariant(LAB_DEFAULTS, PRESETS.ipip);
  return labGraph(planLab(r.config), {
    variant,
    runDir: "/lab/ipip-k8s",
    checksVersion: "c0",
    images: IMAGES,
  });
}
const by = (nodes: LabNode[], name: string) => nodes.find((n) => n.name === name)!;

describe("labGraph of a kubeadm lab", () => {
  const g = graph();
  it("has Kubernetes nodes, Calico applied and Kubernetes pods instead of the lab's agents and pods", () => {
    const kinds = g.nodes.map((n) => n.kind);
    assert.ok(!kinds.includes("agent") && !kinds.includes("pod"), kinds.join(" "));
    assert.deepEqual(
      g.nodes.filter((n) => n.kind === "kubeNode").map((n) => n.name),
      ["master-kubernetes", "worker-1-kubernetes", "worker-2-kubernetes"],
    );
    assert.equal(g.nodes.filter((n) => n.kind === "kubePod").length, 4);
    assert.deepEqual(prerequisites(by(g.nodes, "calico-applied")).sort(), [
      "@manifest",
      "master-kubernetes",
      "worker-1-kubernetes",
      "worker-2-kubernetes",
    ]);
  });
  it("joins the workers with the master's token and CA hash, after etcd and the pool", () => {
    const w = by(g.nodes, "worker-1-kubernetes");
    assert.ok(prerequisites(w).includes("master-kubernetes"));
    assert.ok(prerequisites(by(g.nodes, "master-container-runtime")).includes("etcd"));
    assert.ok(prerequisites(by(g.nodes, "master-kubernetes")).includes("master-container-runtime"));
  });
  it("imports the control plane on the master only, and each worker's pods' images", () => {
    const images = (n: string) =>
      (by(g.nodes, n).inputs as unknown as { images: { archive: string }[] }).images.map((i) => i.archive);
    assert.ok(images("master-container-runtime").includes("/images/kube-apiserver.tar"));
    assert.ok(!images("worker-1-container-runtime").includes("/images/kube-apiserver.tar"));
    assert.ok(images("worker-1-container-runtime").includes("/images/calico-node.tar"));
  });
  it("carries each image's digest, so a rebuilt image is imported into a running node", () => {
    const node = (
      by(g.nodes, "worker-1-container-runtime").inputs as unknown as {
        images: { archive: string; digest: string }[];
      }
    ).images.find((i) => i.archive === "/images/calico-node.tar");
    assert.equal(node?.digest, "sha256:node");
  });
  it("readies every host's runtime before the master's init, so workers import while it starts", () => {
    const w = prerequisites(by(g.nodes, "worker-1-container-runtime"));
    assert.ok(!w.includes("master-kubernetes"), w.join(" "));
    assert.ok(prerequisites(by(g.nodes, "worker-1-kubernetes")).includes("worker-1-container-runtime"));
  });
  it("gives the VMs a node's memory and containerd its tmpfs, and runs etcd 3.6", () => {
    const vm = by(g.nodes, "master-vm").inputs as { memory?: string; tmpfs?: string[]; cpus?: number };
    assert.equal(vm.memory, "3072M");
    assert.equal(vm.cpus, 2);
    assert.deepEqual(vm.tmpfs, ["/var/lib/containerd"]);
    assert.equal((by(g.nodes, "etcd").inputs as { binary?: string }).binary, K8S_ETCD);
  });
  it("tells the verification which calico-node image every pod must run", () => {
    assert.deepEqual((by(g.nodes, "verify").inputs as { cluster?: unknown }).cluster, {
      nodeImage: "calico-lab/node:0.1.0-abc",
    });
  });
});
