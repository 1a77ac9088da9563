// The cluster's checks, from what kubectl lists: expectations from the plan, never from the cluster.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readLabConfig } from "../../../src/config/read.ts";
import { planLab } from "../../../src/lab/topology.ts";
import { clusterChecks, type ClusterRead } from "../../../src/verify/kubernetes.ts";

const r = readLabConfig("ipip-k8s", { mode: "ipip", backend: "vm", kubernetes: "kubeadm" });
assert.ok(r.ok);
const plan = planLab(r.config);
const IMAGE = "calico-lab/node:0.1.0-abc";
const node = (name: string, ready = true) => ({
  metadata: { name },
  status: { conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
});
const calicoNode = (host: string, image = IMAGE, ready = true) => ({
  metadata: { name: `calico-node-${host}`, namespace: "kube-system" },
  spec: { nodeName: host, containers: [{ name: "calico-node", image }] },
  status: { phase: "Running", containerStatuses: [{ name: "calico-node", ready, restartCount: 0, image }] },
});
const pod = (name: string, host: string, ip: string) => ({
  metadata: { name, namespace: "default" },
  spec: { nodeName: host },
  status: { phase: "Running", podIP: ip },
});
function healthy(): Extract<ClusterRead, { ok: true }> {
  return {
    ok: true,
    nodes: plan.hosts.map((h) => node(h.name)),
    calicoNodes: plan.hosts.map((h) => calicoNode(h.name)),
    pods: plan.pods.map((p, i) => pod(p.name, p.host, `10.244.${i}.5`)),
  };
}

describe("the cluster's checks", () => {
  it("pass for a healthy cluster: nodes Ready, N/N calico-node on our image, pods in the pool", () => {
    const cs = clusterChecks(plan, healthy(), IMAGE);
    assert.ok(
      cs.every((c) => c.ok),
      cs
        .filter((c) => !c.ok)
        .map((c) => c.seen)
        .join("; "),
    );
    assert.ok(cs.some((c) => c.name === "calico-node DaemonSet 3/3 ready"));
  });
  it("say which node is not Ready and which calico-node runs another image", () => {
    const read = healthy();
    read.nodes[1] = node(plan.hosts[1]!.name, false);
    read.calicoNodes[2] = calicoNode(plan.hosts[2]!.name, "docker.io/calico/node:v3.11.1");
    const failed = clusterChecks(plan, read, IMAGE).filter((c) => !c.ok);
    assert.match(failed[0]!.seen, /not Ready: worker-1/);
    assert.ok(failed.some((c) => /image docker\.io\/calico\/node:v3\.11\.1/.test(c.seen)));
  });
  it("refuse a pod outside the pool or on the wrong host", () => {
    const read = healthy();
    read.pods[0] = pod(plan.pods[0]!.name, plan.pods[0]!.host, "192.168.0.9");
    read.pods[1] = pod(plan.pods[1]!.name, "master", "10.244.1.5");
    const failed = clusterChecks(plan, read, IMAGE).filter((c) => !c.ok);
    assert.equal(failed.length, 2, failed.map((c) => c.seen).join("; "));
  });
  it("fail once, saying why, when the API server does not answer", () => {
    const cs = clusterChecks(plan, { ok: false, reason: "connection refused" }, IMAGE);
    assert.equal(cs.length, 1);
    assert.equal(cs[0]!.ok, false);
    assert.equal(cs[0]!.seen, "connection refused");
  });
});
