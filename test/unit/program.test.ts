// The resource graph under pulumi.runtime.setMocks: what `pulumi up` would register, without touching the machine.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { readClusterImages } from "../../src/lab/cluster-images.ts";
import { assertGolden } from "../support/golden.ts";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

const registered: Registered[] = [];

async function installMocks(stack = "bgp") {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        const extra: Record<string, unknown> = { passed: 6, failed: 0, checks: [], encapsulation: "plain" };
        if (args.type.endsWith("calico-lab:Pod")) extra.ip = `10.244.0.${registered.length}`;
        if (args.type.endsWith("calico-lab:Etcd")) extra.endpoint = "http://192.168.19.165:2379";
        if (args.type.endsWith("calico-lab:File")) extra.path = args.inputs.path;
        return { id: `${args.name}-id`, state: { ...args.inputs, ...extra } };
      },
      call(args) {
        return args.inputs;
      },
    },
    "calico-lab",
    stack,
    false,
  );
}

/** Runs the program and waits until every resource it made is registered (the outputs depend on all of them). */
async function runProgram(config: Record<string, string>) {
  registered.length = 0;
  for (const [k, v] of Object.entries(config)) pulumi.runtime.setConfig(k, v);
  const { main } = await import("../../src/program.ts");
  const outputs = await main();
  await new Promise((resolve) => pulumi.output(outputs).apply(resolve));
  return outputs;
}

function ofType(suffix: string) {
  return registered.filter((r) => r.type.endsWith(suffix));
}

describe("lab program (mocked engine)", () => {
  before(() => {
    // The kernel probe is an effect; this test is about the resource graph.
    process.env.CALICO_LAB_SKIP_PREFLIGHT = "1";
    return installMocks("bgp");
  });

  it("registers a switch namespace, a bridge, and per host a namespace and an underlay port", async () => {
    await runProgram({ "calico-lab:mode": "bgp" });
    const netns = ofType("calico-lab:NetworkNamespace").map((r) => r.inputs.name);
    assert.deepEqual(netns.sort(), [
      "bgp-master",
      "bgp-outside",
      "bgp-underlay",
      "bgp-worker-1",
      "bgp-worker-2",
    ]);
    const bridges = ofType("calico-lab:Bridge");
    assert.equal(bridges.length, 1);
    assert.equal(bridges[0]!.inputs.netns, "bgp-underlay");
    const ports = ofType("calico-lab:UnderlayPort");
    assert.deepEqual(ports.map((p) => p.inputs.cidr).sort(), [
      "192.168.19.165/24",
      "192.168.19.166/24",
      "192.168.19.167/24",
      "192.168.19.200/24",
    ]);
    assert.ok(ports.every((p) => p.inputs.switchNetns === "bgp-underlay" && p.inputs.ifname === "eth0"));
    assert.equal(ofType("calico-lab:Verification").length, 1);
    assert.deepEqual(
      ofType("calico-lab:lab:Host")
        .map((r) => r.name)
        .sort(),
      ["master", "outside", "worker-1", "worker-2"],
    );
  });

  it("runs etcd on the master, calico-node on every host, and pods on the hosts their config names", async () => {
    await runProgram({ "calico-lab:mode": "bgp" });
    assert.deepEqual(
      ofType("calico-lab:Etcd").map((e) => [e.inputs.netns, e.inputs.address]),
      [["bgp-master", "192.168.19.165"]],
    );
    assert.deepEqual(
      ofType("calico-lab:Agent")
        .map((a) => a.inputs.nodeName)
        .sort(),
      ["master", "worker-1", "worker-2"],
    );
    assert.deepEqual(
      ofType("calico-lab:Pod")
        .map((p) => [p.inputs.name, p.inputs.hostNetns, p.inputs.server])
        .sort(),
      [
        ["busybox-1", "bgp-worker-1", false],
        ["busybox-2", "bgp-worker-2", false],
        ["busybox-3", "bgp-worker-1", false],
        ["echo", "bgp-worker-2", true],
      ],
    );
    // The lab applies the pool (a mode change must reach a running lab) and keeps the mesh on without RRs.
    const bgp = ofType("calico-lab:CalicoResources")[0]!.inputs.resources;
    assert.deepEqual(bgp, [
      {
        kind: "IPPool",
        apiVersion: "projectcalico.org/v3",
        metadata: { name: "default-ipv4-ippool" },
        spec: {
          cidr: "10.244.0.0/16",
          ipipMode: "Never",
          vxlanMode: "Never",
          natOutgoing: true,
          blockSize: 26,
          nodeSelector: "all()",
        },
      },
      {
        kind: "BGPConfiguration",
        apiVersion: "projectcalico.org/v3",
        metadata: { name: "default" },
        spec: { asNumber: 64512, nodeToNodeMeshEnabled: true, logSeverityScreen: "Info" },
      },
    ]);
    assert.match(String(ofType("calico-lab:File")[0]!.inputs.path), /\.lab\/bgp\/calico\.yaml$/);
  });

  it("rejects bad config before registering any resource, listing every problem", async () => {
    await assert.rejects(
      runProgram({ "calico-lab:mode": "fast", "calico-lab:podCidr": "192.168.0.0/16" }),
      (e: Error) => {
        assert.match(e.message, /calico-lab:mode = "fast": unknown mode/);
        assert.match(
          e.message,
          /calico-lab:podCidr = "192.168.0.0\/16": the pod network overlaps the underlay/,
        );
        return true;
      },
    );
    assert.equal(registered.filter((r) => r.type.includes("calico-lab")).length, 0);
  });

  it("refuses a kubeadm stack whose images are not built, before registering any resource", async () => {
    const empty = mkdtempSync(join(tmpdir(), "calico-lab-no-images-"));
    process.env.CALICO_LAB_IMAGES_DIR = empty;
    try {
      await assert.rejects(
        runProgram({
          "calico-lab:mode": "ipip",
          "calico-lab:podCidr": "10.244.0.0/16",
          "calico-lab:backend": "vm",
          "calico-lab:kubernetes": "kubeadm",
        }),
        (e: Error) => {
          assert.match(e.message, /the cluster's images are not built: pause, kube-apiserver/);
          assert.match(e.message, /fix: bash scripts\/setup --kubernetes/);
          return true;
        },
      );
      assert.equal(registered.filter((r) => r.type.includes("calico-lab")).length, 0);
      const read = readClusterImages("ipip-k8s", empty);
      assert.equal(read.ok, false);
      if (!read.ok)
        await assertGolden(
          "config/kubernetes-images-missing.txt",
          read.message.replace(empty, "<images>") + "\n",
        );
    } finally {
      delete process.env.CALICO_LAB_IMAGES_DIR;
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
