// The pure pieces of a kubeadm node and its pods: containerd's config, the Pod manifests, the probe script
// (run for real by busybox sh against status files), and the DaemonSet's lab additions.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { containerdConfig } from "../../../src/kubernetes/containerd-config.ts";
import { agentArgs, labDaemonSet } from "../../../src/kubernetes/daemonset.ts";
import { podManifest } from "../../../src/kubernetes/pod-spec.ts";
import { PROBE_SCRIPT } from "../../../src/kubernetes/probe.ts";
import { loadTemplate } from "../../../src/manifest/index.ts";

describe("containerd's config", () => {
  it("sandboxes in our pause image, cgroupfs, the standard CNI folders, nothing to pull", () => {
    const t = containerdConfig({
      root: "/var/lib/containerd",
      state: "/run/containerd",
      sandboxImage: "registry.k8s.io/pause:3.10.1",
    });
    assert.match(t, /^version = 2$/m);
    assert.match(t, /sandbox_image = "registry\.k8s\.io\/pause:3\.10\.1"/);
    assert.match(t, /SystemdCgroup = false/);
    assert.match(t, /bin_dir = "\/opt\/cni\/bin"/);
    assert.match(t, /conf_dir = "\/etc\/cni\/net\.d"/);
  });
  it("refuses a path or an image ref that is not plain", () => {
    assert.throws(
      () => containerdConfig({ root: "var", state: "/run/containerd", sandboxImage: "pause:1" }),
      /root "var"/,
    );
    assert.throws(
      () => containerdConfig({ root: "/r", state: "/s", sandboxImage: 'x"; evil' }),
      /sandbox image "x"; evil" is not an image reference/,
    );
  });
});

describe("a stack's pod as a Kubernetes Pod", () => {
  it("pins busybox to its host by nodeSelector, never pulls, tolerates the master's taint", () => {
    const p = parse(
      podManifest({
        name: "busybox-1",
        namespace: "default",
        node: "worker-1",
        image: "docker.io/library/busybox:latest",
        server: false,
        port: 8080,
      }),
    );
    assert.deepEqual(p.spec.nodeSelector, { "kubernetes.io/hostname": "worker-1" });
    assert.equal(p.spec.containers[0].imagePullPolicy, "Never");
    assert.deepEqual(p.spec.containers[0].command, ["sleep", "2147483647"]);
    assert.equal(p.spec.tolerations[0].key, "node-role.kubernetes.io/control-plane");
    assert.equal(p.metadata.labels["calico-lab/pod"], "busybox-1");
  });
  it("runs the echo server on its port", () => {
    const p = parse(
      podManifest({
        name: "echo",
        namespace: "default",
        node: "worker-2",
        image: "docker.io/calico-lab/echo:1",
        server: true,
        port: 8080,
      }),
    );
    assert.deepEqual(p.spec.containers[0].args, ["8080", "echo"]);
    assert.equal(p.spec.containers[0].ports[0].containerPort, 8080);
  });
  it("refuses a name Kubernetes would refuse", () => {
    assert.throws(
      () =>
        podManifest({
          name: "Busy_1",
          namespace: "default",
          node: "w",
          image: "i:1",
          server: false,
          port: 1,
        }),
      /pod name "Busy_1"/,
    );
  });
});

/** The probe script run by busybox sh on a run folder, as in a pod (with its UID as launch token) or not. */
const BUSYBOX = "/usr/bin/busybox";
const runProbe = (dir: string, launch: string | undefined, flags: string[]) =>
  spawnSync(BUSYBOX, ["sh", "-c", PROBE_SCRIPT, "probe", ...flags], {
    env: {
      CALICO_LAB_RUN_DIR: dir,
      CALICO_LAB_SOCKET_DIR: dir,
      ...(launch ? { CALICO_LAB_AGENT_LAUNCH: launch } : {}),
      PATH: "/usr/bin:/bin",
    },
  }).status;

describe("the calico-node probe script (busybox sh)", () => {
  const sh = BUSYBOX;
  const probe = (dir: string, ...flags: string[]) => runProbe(dir, undefined, flags);
  it(
    "is live while starting, ready only when ready, and asks BIRD for its socket",
    { skip: !existsSync(sh) && "busybox-static is not installed" },
    () => {
      const dir = mkdtempSync(join(tmpdir(), "calico-lab-probe-"));
      try {
        assert.equal(probe(dir, "-felix-live"), 1, "no status.json: not live");
        writeFileSync(join(dir, "status.json"), '{\n  "phase": "starting"\n}\n');
        assert.equal(probe(dir, "-felix-live"), 0);
        assert.equal(probe(dir, "-felix-ready"), 1);
        writeFileSync(join(dir, "status.json"), '{\n  "phase": "ready"\n}\n');
        assert.equal(probe(dir, "-felix-ready"), 0);
        assert.equal(probe(dir, "-felix-ready", "-bird-ready"), 1, "no BIRD running, no socket");
        writeFileSync(join(dir, "status.json"), '{\n  "phase": "error"\n}\n');
        assert.equal(probe(dir, "--felix-live"), 1);
        assert.equal(probe(dir, "-nonsense"), 2);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe("the calico-node probe script in a pod (launch token: the pod's UID)", () => {
  const sh = BUSYBOX;
  const probe = (dir: string, launch: string, ...flags: string[]) => runProbe(dir, launch, flags);
  it(
    "trusts only a status.json this pod's agent wrote: a deleted pod's ready status and socket are not",
    { skip: !existsSync(sh) && "busybox-static is not installed" },
    () => {
      const dir = mkdtempSync(join(tmpdir(), "calico-lab-probe-"));
      try {
        const status = (launch: string) =>
          JSON.stringify({ phase: "ready", node: "master", pid: 1, birdPid: 59, launch }, null, 2);
        writeFileSync(join(dir, "status.json"), status("old-pod-uid"));
        writeFileSync(join(dir, "bird.ctl"), ""); // a regular file: the probe wants a socket
        assert.equal(probe(dir, "new-pod-uid", "-felix-live"), 1, "the old pod's status: not live yet");
        assert.equal(probe(dir, "new-pod-uid", "-felix-ready"), 1);
        writeFileSync(join(dir, "status.json"), status("new-pod-uid"));
        assert.equal(probe(dir, "new-pod-uid", "-felix-live"), 0);
        assert.equal(probe(dir, "new-pod-uid", "-felix-ready"), 0);
        assert.equal(probe(dir, "new-pod-uid", "-felix-ready", "-bird-ready"), 1, "bird.ctl is no socket");
        writeFileSync(
          join(dir, "status.json"),
          JSON.stringify({ phase: "ready", node: "master", pid: 1, launch: "new-pod-uid" }, null, 2),
        );
        assert.equal(probe(dir, "new-pod-uid", "-bird-ready"), 1, "no birdPid: the agent runs no BIRD");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe("the DaemonSet's lab additions", () => {
  const inputs = {
    runDir: "/work/x/.lab/ipip-k8s",
    manifestPath: "/work/x/.lab/ipip-k8s/calico.yaml",
    stack: "ipip-k8s",
  };
  const ds = () => {
    const docs = parseAllDocuments(labDaemonSet(loadTemplate("etcdv3"), inputs)).map((d) => d.toJS());
    return docs.find((d) => d?.kind === "DaemonSet");
  };
  it("runs the agent on the rendered manifest with the node's run folder and socket folder", () => {
    const c = ds().spec.template.spec.containers.find((x: { name: string }) => x.name === "calico-node");
    assert.deepEqual(c.args, agentArgs(inputs));
    const env = Object.fromEntries(c.env.map((e: { name: string; value?: string }) => [e.name, e.value]));
    assert.equal(env.CALICO_LAB_RUN_DIR, "/work/x/.lab/ipip-k8s/$(NODENAME)");
    assert.equal(env.CALICO_LAB_SOCKET_DIR, "/run/calico-lab/ipip-k8s-$(NODENAME)");
    const launch = c.env.find((e: { name: string }) => e.name === "CALICO_LAB_AGENT_LAUNCH");
    assert.deepEqual(launch?.valueFrom, { fieldRef: { fieldPath: "metadata.uid" } }, "the pod's UID");
    assert.deepEqual(c.readinessProbe.exec.command, [
      "/usr/local/bin/calico-node-probe",
      "-felix-ready",
      "-bird-ready",
    ]);
    assert.deepEqual(c.livenessProbe.exec.command, ["/usr/local/bin/calico-node-probe", "-felix-live"]);
    assert.equal(c.readinessProbe.periodSeconds, 30);
    assert.equal(c.livenessProbe.periodSeconds, 30);
    assert.equal(c.readinessProbe.timeoutSeconds, 10);
    assert.equal(c.livenessProbe.timeoutSeconds, 10);
    const mounts = c.volumeMounts.map((m: { mountPath: string }) => m.mountPath);
    assert.ok(
      mounts.includes("/work/x/.lab/ipip-k8s") && mounts.includes("/run/calico-lab"),
      mounts.join(" "),
    );
  });
  it("changes nothing more when applied twice", () => {
    const once = labDaemonSet(loadTemplate("etcdv3"), inputs);
    assert.equal(labDaemonSet(once, inputs), once);
  });
  it("refuses a manifest outside the run folder the agent gets", () => {
    assert.throws(
      () => labDaemonSet(loadTemplate("etcdv3"), { ...inputs, manifestPath: "/etc/calico.yaml" }),
      /not in the run folder/,
    );
  });
});

describe("the control plane's patches for an emulated host", () => {
  it("keeps every probe and only makes it patient, for each component by its container name", async () => {
    const { controlPlanePatches, PROBE_PATIENCE } = await import("../../../src/kubernetes/kubeadm-config.ts");
    const patches = controlPlanePatches();
    assert.deepEqual(Object.keys(patches).sort(), [
      "kube-apiserver+strategic.json",
      "kube-controller-manager+strategic.json",
      "kube-scheduler+strategic.json",
    ]);
    const p = JSON.parse(patches["kube-apiserver+strategic.json"]!);
    assert.equal(p.spec.containers[0].name, "kube-apiserver");
    assert.deepEqual(p.spec.containers[0].startupProbe, PROBE_PATIENCE);
  });
});

describe("images a running node imports on update", () => {
  it("imports new archives and rebuilt ones (same archive, new digest), not what it has", async () => {
    const { imagesToImport } = await import("../../../src/kubernetes/node-runtime.ts");
    const olds = [
      { archive: "/i/pause.tar", digest: "sha256:p" },
      { archive: "/i/calico-node.tar", digest: "sha256:n1" },
    ];
    const news = [
      { archive: "/i/pause.tar", digest: "sha256:p" },
      { archive: "/i/calico-node.tar", digest: "sha256:n2" },
      { archive: "/i/busybox.tar", digest: "sha256:b" },
    ];
    assert.deepEqual(
      imagesToImport(olds, news).map((i) => i.archive),
      ["/i/calico-node.tar", "/i/busybox.tar"],
    );
    assert.deepEqual(imagesToImport(news, news), []);
  });
});
