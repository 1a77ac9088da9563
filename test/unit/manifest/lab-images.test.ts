// The image knob: what the lab applies to a kubeadm cluster runs our calico-node image, pulls nothing,
// drops calico-kube-controllers, and gives our agent (through kubelet's environment) the same settings the
// lab's own agent reads from the manifest. On the lab's templates and on upstream's v3.9 calico.yaml.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { settingsFromEnv } from "../../../src/agent/startup/env.ts";
import { settingsFromManifest } from "../../../src/agent/startup/from-manifest.ts";
import { DEFAULT_AS_NUMBER } from "../../../src/agent/confd/types.ts";
import { agentEnvProblems, calicoNodeEnv } from "../../../src/manifest/agent-env.ts";
import {
  AGENT_ENTRYPOINT,
  INSTALL_CNI_ENTRYPOINT,
  ManifestError,
  MODES,
  PRESETS,
  parseManifest,
  readAgentSettings,
  renderManifest,
  upstreamImages,
} from "../../../src/manifest/index.ts";
import { assertGolden } from "../../support/golden.ts";
import { UPSTREAM, lineDiff, readInput } from "./helpers.ts";

const IMAGE = "calico-lab/node:v0.1.0";

interface PodSpec {
  containers: { name: string; volumeMounts: { mountPath: string }[] }[];
  volumes: { name: string }[];
}

function errorText(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ManifestError, String(e));
    for (const p of e.problems) assert.ok(p.field && p.value && p.message && p.fix, JSON.stringify(p));
    return e.message + "\n";
  }
  assert.fail("accepted");
}

const report = (r: { changes: string[]; notes: { field: string; message: string }[] }) =>
  [...r.changes.map((c) => `changed: ${c}`), ...r.notes.map((n) => `note: ${n.field}: ${n.message}`)].join(
    "\n",
  ) + "\n";

describe("the image knob on the lab's etcd template", () => {
  const template = readInput("template-etcd");

  it("is pinned: the applied calico.yaml of ipip, and what the render says", async () => {
    const r = renderManifest(template, PRESETS.ipip, { nodeImage: IMAGE });
    await assertGolden("manifest/lab-images/calico-etcd-ipip.yaml", r.text);
    await assertGolden("manifest/lab-images/calico-etcd-ipip.txt", report(r));
  });

  for (const mode of MODES) {
    it(`${mode}: our image everywhere, nothing to pull, the same variant`, () => {
      const plain = renderManifest(template, PRESETS[mode]);
      const r = renderManifest(template, PRESETS[mode], { nodeImage: IMAGE });
      assert.deepEqual(upstreamImages(r.text), []);
      assert.deepEqual(parseManifest(r.text).variant, plain.variant);
      assert.deepEqual(agentEnvProblems(r.text), []);
      const images = r.text.split("\n").filter((l) => /^\s*image:/.test(l));
      assert.deepEqual(
        images.map((l) => l.trim()),
        [`image: "${IMAGE}"`, `image: "${IMAGE}"`],
      );
      assert.equal(r.text.split("\n").filter((l) => l.trim() === "imagePullPolicy: Never").length, 2);
      assert.ok(r.text.includes(`command: ["${AGENT_ENTRYPOINT}"]`));
      assert.ok(r.text.includes(`command: ["${INSTALL_CNI_ENTRYPOINT}"]`));
      assert.ok(!r.text.includes("calico-kube-controllers"));
      // Our agent finds its host through the host's /run/netns: mounted read-only from a hostPath volume.
      const ds = parseAllDocuments(r.text)
        .map((d) => d.toJS() as { kind?: string; spec?: { template: { spec: PodSpec } } })
        .find((d) => d.kind === "DaemonSet")!.spec!.template.spec;
      const node = ds.containers.find((c) => c.name === "calico-node")!;
      assert.deepEqual(
        node.volumeMounts.find((v) => v.mountPath === "/run/netns"),
        { mountPath: "/run/netns", name: "lab-netns", readOnly: true },
      );
      assert.deepEqual(
        ds.volumes.find((v) => v.name === "lab-netns"),
        { name: "lab-netns", hostPath: { path: "/run/netns" } },
      );
      assert.ok(!/\/bin\/calico-node$/m.test(r.text.replaceAll(AGENT_ENTRYPOINT, "")));
    });

    it(`${mode}: kubelet's environment gives our agent what the lab's agent reads from the manifest`, () => {
      const text = renderManifest(template, PRESETS[mode], { nodeImage: IMAGE }).text;
      const env = calicoNodeEnv(text, { nodeName: "worker-1" });
      assert.equal(env.NODENAME, "worker-1");
      const fromEnv = settingsFromEnv(env, "lab-worker-1");
      const fromManifest = settingsFromManifest(readAgentSettings(text), {
        nodeName: "worker-1",
        netns: "lab-worker-1",
      });
      // The pool's node selector is the agent's default either way. Without an AS entry (the variant writes
      // one only off the default) the env path registers no per-node AS, and the node takes the cluster's
      // (confd: DEFAULT_AS_NUMBER), the one the manifest path writes out.
      assert.deepEqual(
        {
          ...fromEnv,
          asNumber: fromEnv.asNumber ?? DEFAULT_AS_NUMBER,
          pool: { ...fromEnv.pool, nodeSelector: undefined },
        },
        { ...fromManifest, pool: { ...fromManifest.pool, nodeSelector: undefined } },
      );
      assert.equal(env.CALICO_NETWORKING_BACKEND, PRESETS[mode].backend);
      assert.equal(env.ETCD_ENDPOINTS, "http://192.168.19.165:2379");
    });
  }

  it("without the knob, the manifest lists upstream's images and lacks NODENAME", async () => {
    const r = renderManifest(template, PRESETS.bgp);
    assert.deepEqual(
      upstreamImages(r.text).map((u) => `${u.workload} ${u.container} ${u.image}`),
      [
        "DaemonSet/calico-node install-cni calico/cni:v3.11.1",
        "DaemonSet/calico-node calico-node calico/node:v3.11.1",
        "Deployment/calico-kube-controllers calico-kube-controllers calico/kube-controllers:v3.11.1",
      ],
    );
    assert.deepEqual(
      agentEnvProblems(r.text).map((p) => p.field),
      ["NODENAME"],
    );
  });

  it("touches only the lines of the images, entrypoints, probes, NODENAME and kube-controllers", () => {
    const plain = renderManifest(template, PRESETS.bgp).text;
    const d = lineDiff(plain, renderManifest(template, PRESETS.bgp, { nodeImage: IMAGE }).text);
    // calico-kube-controllers' documents are the manifest's last: everything from its Deployment on goes.
    const kubeControllers = plain
      .split("\n")
      .indexOf("# calico-kube-controllers: garbage-collects Calico data for deleted nodes.");
    assert.ok(kubeControllers > 0);
    const removed = d.removed.filter(([n]) => n < kubeControllers - 1).map(([, l]) => l.trim());
    assert.deepEqual(removed, [
      "image: calico/cni:v3.11.1",
      'command: ["/install-cni.sh"]',
      "image: calico/node:v3.11.1",
      "- /bin/calico-node",
      "- /bin/calico-node",
    ]);
    assert.ok(
      d.removed.filter(([n]) => n >= kubeControllers - 1).every(([, l]) => !l.includes("calico-node")),
    );
  });

  it("is idempotent: applying it to what it applied changes nothing but the tag", () => {
    const once = renderManifest(template, PRESETS.bgp, { nodeImage: IMAGE });
    const twice = renderManifest(once.text, PRESETS.bgp, { nodeImage: IMAGE });
    assert.equal(twice.text, once.text);
    const retag = renderManifest(once.text, PRESETS.bgp, { nodeImage: "calico-lab/node:v0.2.0" });
    assert.deepEqual(
      lineDiff(once.text, retag.text).added.map(([, l]) => l.trim()),
      ['image: "calico-lab/node:v0.2.0"', 'image: "calico-lab/node:v0.2.0"'],
    );
  });

  it("refuses an image that is not the lab's", async () => {
    const text = errorText(() =>
      renderManifest(template, PRESETS.bgp, { nodeImage: "docker.io/calico/node:v3.11.1" }),
    );
    await assertGolden("manifest/errors/lab-image-upstream.txt", text);
  });

  it("refuses a manifest that would still pull an image", async () => {
    const extra = `${template}---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-exporter
spec:
  template:
    spec:
      containers:
        - name: exporter
          image: quay.io/prometheus/node-exporter:v1.8.0
`;
    await assertGolden(
      "manifest/errors/lab-image-left-to-pull.txt",
      errorText(() => renderManifest(extra, PRESETS.bgp, { nodeImage: IMAGE })),
    );
  });
});

describe("the image knob on the Kubernetes-datastore template", () => {
  it("leaves no upstream image, and says our agent cannot run on it", () => {
    const r = renderManifest(readInput("template"), PRESETS.ipip, { nodeImage: IMAGE });
    assert.deepEqual(upstreamImages(r.text), []);
    assert.deepEqual(
      agentEnvProblems(r.text).map((p) => `${p.field}: ${p.message}`),
      [
        "ETCD_ENDPOINTS: calico-node's container has no ETCD_ENDPOINTS: the agent's datastore (calico-config etcd_endpoints)",
        "DATASTORE_TYPE: the agent runs on the etcdv3 datastore only",
      ],
    );
  });
});

describe("the image knob on upstream's calico.yaml v3.9", { skip: UPSTREAM.skip }, () => {
  it("drops kube-controllers and the init containers the image has no step for", async () => {
    const src = readInput("calico-v3.9.0");
    assert.deepEqual(
      upstreamImages(src).map((u) => `${u.container} ${u.image}`),
      [
        "upgrade-ipam calico/cni:v3.9.0",
        "install-cni calico/cni:v3.9.0",
        "flexvol-driver calico/pod2daemon-flexvol:v3.9.0",
        "calico-node calico/node:v3.9.0",
        "calico-kube-controllers calico/kube-controllers:v3.9.0",
      ],
    );
    const r = renderManifest(src, PRESETS.ipip, { nodeImage: IMAGE });
    assert.deepEqual(upstreamImages(r.text), []);
    assert.deepEqual(parseManifest(r.text).variant, renderManifest(src, PRESETS.ipip).variant);
    await assertGolden("manifest/lab-images/calico-v3.9.0-ipip.txt", report(r));
  });
});
