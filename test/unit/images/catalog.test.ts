import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, it } from "node:test";
import { REPO_ROOT } from "../../../src/build/bundles.ts";
import {
  catalog,
  IMAGE_NAMES,
  imageRef,
  imageTag,
  parseRef,
  type CatalogInputs,
  type ImageSpec,
} from "../../../src/images/catalog.ts";
import { KUBERNETES_BIN, KUBERNETES_VERSION, pauseFromImagesList } from "../../../src/images/inputs.ts";

const inputs: CatalogInputs = {
  kubernetesVersion: "v1.34.4",
  pauseRef: "registry.k8s.io/pause:3.10.1",
  labVersion: "0.1.0",
  nodePath: "/usr/bin/node",
  kubernetesBin: ".tools/k8s/bin",
  echoPort: 8080,
};
const byName = (name: string): ImageSpec => catalog(inputs).find((s) => s.name === name)!;
const fixedRef = (s: ImageSpec) => imageRef(s, imageTag(s.tag, []));

describe("image catalog", () => {
  it("has every image once, each with layers and a full reference", () => {
    const specs = catalog(inputs);
    assert.deepEqual(
      specs.map((s) => s.name),
      [...IMAGE_NAMES],
    );
    for (const s of specs) {
      assert.ok(s.layers.length > 0 && s.layers.every((l) => l.sources.length > 0), s.name);
      assert.doesNotThrow(() => parseRef(imageRef(s, imageTag(s.tag, ["sha256:00"]))), s.name);
    }
  });

  it("tags the control-plane images with the pinned Kubernetes version, as kubeadm names them", () => {
    for (const n of ["kube-apiserver", "kube-controller-manager", "kube-scheduler"])
      assert.equal(fixedRef(byName(n)), `registry.k8s.io/${n}:v1.34.4`);
    assert.deepEqual(byName("kube-apiserver").layers[0]!.sources, [
      {
        kind: "host",
        from: ".tools/k8s/bin/kube-apiserver",
        to: "/usr/local/bin/kube-apiserver",
        mode: 0o755,
      },
    ]);
  });

  it("names pause as kubeadm expects and busybox as `--image=busybox` resolves", () => {
    assert.equal(fixedRef(byName("pause")), "registry.k8s.io/pause:3.10.1");
    assert.deepEqual(byName("pause").run.entrypoint, ["/pause"]);
    assert.equal(fixedRef(byName("busybox")), "docker.io/library/busybox:latest");
    const applets = byName("busybox").layers[0]!.sources.flatMap((s) =>
      s.kind === "symlink" ? [s.path] : [],
    );
    for (const a of [
      "sh",
      "sleep",
      "ping",
      "wget",
      "nc",
      "ip",
      "ls",
      "cat",
      "echo",
      "hostname",
      "ifconfig",
      "route",
      "httpd",
      "printf",
    ])
      assert.ok(applets.includes(`/bin/${a}`), a);
  });

  it("tags our images with the lab version and a digest of their layers: a changed agent, a new tag", () => {
    const node = byName("calico-node");
    const a = imageTag(node.tag, ["sha256:aa", "sha256:bb"]);
    assert.match(a, /^0\.1\.0-[0-9a-f]{12}$/);
    assert.equal(imageTag(node.tag, ["sha256:aa", "sha256:bb"]), a);
    assert.notEqual(imageTag(node.tag, ["sha256:aa", "sha256:cc"]), a);
    assert.equal(node.repository, "docker.io/calico-lab/node");
    assert.equal(byName("echo").repository, "docker.io/calico-lab/echo");
    assert.deepEqual(byName("echo").run.cmd, ["8080", "echo"]);
  });

  it("shares one node-runtime layer between the node images (stored once by containerd)", () => {
    const runtime = (n: string) => JSON.stringify(byName(n).layers[0]);
    assert.equal(runtime("calico-node"), runtime("echo"));
    assert.match(
      runtime("calico-node"),
      /"from":"\/usr\/bin\/node","to":"\/usr\/bin\/node","mode":493,"libraries":true/,
    );
  });

  it("puts the CNI plugin where install-cni copies it from, and install-cni where the v3.x manifests call it", () => {
    const sources = byName("calico-node").layers.flatMap((l) => l.sources);
    const paths = sources.map((s) => ("path" in s ? s.path : "to" in s ? s.to : s.from));
    for (const p of [
      "/opt/cni/bin/calico",
      "/opt/cni/bin/calico-lab/dist/bin/cni.mjs",
      "/opt/cni/bin/calico-lab/node_modules/etcd3",
      "/install-cni.sh",
      "/usr/sbin/bird",
      "/usr/sbin/iptables",
    ])
      assert.ok(paths.includes(p), p);
  });

  it("refuses versions and references it cannot use", () => {
    assert.throws(
      () => catalog({ ...inputs, kubernetesVersion: "1.34" }),
      /kubernetes version "1.34" is not vMAJOR.MINOR.PATCH/,
    );
    assert.throws(
      () => catalog({ ...inputs, pauseRef: "pause:3.10" }),
      /not a full image reference \(registry\/name:tag\): "pause:3.10"/,
    );
    assert.throws(() => catalog({ ...inputs, labVersion: "x" }), /lab version "x" is not MAJOR.MINOR.PATCH/);
    assert.deepEqual(parseRef("registry.k8s.io/coredns/coredns:v1.12.1"), {
      repository: "registry.k8s.io/coredns/coredns",
      tag: "v1.12.1",
    });
  });

  it("finds the pause image in kubeadm's list", () => {
    const list =
      "registry.k8s.io/kube-apiserver:v1.34.4\nregistry.k8s.io/coredns/coredns:v1.12.1\nregistry.k8s.io/pause:3.10.1\nregistry.k8s.io/etcd:3.6.5-0\n";
    assert.equal(pauseFromImagesList(list), "registry.k8s.io/pause:3.10.1");
    assert.equal(pauseFromImagesList("registry.k8s.io/etcd:3.6.5-0\n"), null);
  });

  const kubeadm = join(REPO_ROOT, KUBERNETES_BIN, "kubeadm");
  it(
    "matches what the built kubeadm lists for the pinned version",
    { skip: !existsSync(kubeadm) && `${kubeadm} is not built` },
    () => {
      const r = spawnSync(kubeadm, ["config", "images", "list", "--kubernetes-version", KUBERNETES_VERSION], {
        encoding: "utf8",
      });
      assert.equal(r.status, 0, r.stderr);
      const listed = r.stdout.trim().split("\n");
      const built = catalog({
        ...inputs,
        kubernetesVersion: KUBERNETES_VERSION,
        pauseRef: pauseFromImagesList(r.stdout)!,
      });
      for (const n of ["pause", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]) {
        const s = built.find((x) => x.name === n)!;
        assert.ok(listed.includes(fixedRef(s)), `${fixedRef(s)} in kubeadm's list`);
      }
    },
  );
});

// The calico-node image holds every program our agent runs: a command the agent spawns that the image lacks
// fails only inside a cluster (the first 3-VM run found `unshare` missing: the preflight's probe).
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Programs the agent spawns: the first element of an argv array literal, `["ip", …`. */
function agentCommands(): string[] {
  const found = new Set<string>();
  for (const f of sources(join(import.meta.dirname, "../../../src/agent")))
    for (const m of readFileSync(f, "utf8").matchAll(/\[\s*"([a-z][a-z0-9-]*)",/g))
      if (
        [
          "ip",
          "iptables",
          "iptables-restore",
          "sysctl",
          "unshare",
          "bird",
          "birdc",
          "nsenter",
          "tc",
        ].includes(m[1]!)
      )
        found.add(m[1]!);
  return [...found].sort();
}

describe("the calico-node image", () => {
  it("holds every program the agent spawns", () => {
    const node = catalog(inputs).find((s) => s.name === "calico-node")!;
    const names = new Set(
      node.layers.flatMap((l) =>
        l.sources.flatMap((s) =>
          s.kind === "host"
            ? [basename(s.to ?? s.from)]
            : s.kind === "symlink" || s.kind === "text"
              ? [basename(s.path)]
              : [],
        ),
      ),
    );
    const commands = agentCommands();
    assert.ok(commands.includes("ip") && commands.includes("unshare"), commands.join(" "));
    assert.deepEqual(
      commands.filter((c) => !names.has(c)),
      [],
    );
  });
});
