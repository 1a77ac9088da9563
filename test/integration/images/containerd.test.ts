// The images as the guests use them: built into a scratch folder, imported into a private containerd
// (its own root, state and socket under a temp dir; the CRI plugin off) with `ctr -n k8s.io images import`,
// listed under the names kubeadm and the manifests use, busybox run with runc, and the calico-node image's
// install-cni run against two scratch folders standing for the host's. The containerd is
// stopped and its folder removed whatever happens.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO_ROOT } from "../../../src/build/bundles.ts";
import { buildImages, readImagesIndex } from "../../../src/images/build.ts";
import { catalog } from "../../../src/images/catalog.ts";
import { catalogInputs, DEFAULT_PAUSE_REF } from "../../../src/images/inputs.ts";
import { isRoot } from "../../support/netns-scope.ts";

const onPath = (cmd: string) => spawnSync("sh", ["-c", 'command -v "$1"', "sh", cmd]).status === 0;
const missing = ["containerd", "ctr", "runc"].filter((c) => !onPath(c));
const skip = !isRoot()
  ? "needs root (containerd)"
  : missing.length > 0
    ? `not installed: ${missing.join(", ")}`
    : false;

describe("images in a private containerd", { skip, timeout: 180_000 }, () => {
  let dir = "";
  let containerd: ChildProcess | null = null;
  const ctr = (...args: string[]) =>
    spawnSync("ctr", ["--address", join(dir, "containerd.sock"), "-n", "k8s.io", ...args], {
      encoding: "utf8",
      timeout: 60_000,
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "images-ctrd-"));
    writeFileSync(
      join(dir, "config.toml"),
      [
        "version = 2",
        `root = ${JSON.stringify(join(dir, "root"))}`,
        `state = ${JSON.stringify(join(dir, "state"))}`,
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
        "[grpc]",
        `  address = ${JSON.stringify(join(dir, "containerd.sock"))}`,
        "[ttrpc]",
        `  address = ${JSON.stringify(join(dir, "containerd.sock.ttrpc"))}`,
        "",
      ].join("\n"),
    );
    containerd = spawn("containerd", ["--config", join(dir, "config.toml")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let log = "";
    containerd.stderr!.on("data", (c: Buffer) => (log += c.toString()));
    for (let i = 0; i < 100 && !/containerd successfully booted/.test(log); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(log, /containerd successfully booted/, `containerd did not start:\n${log.slice(-2000)}`);
  });

  after(async () => {
    if (containerd && containerd.exitCode === null) {
      const exited = new Promise((r) => containerd!.once("exit", r));
      containerd.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (containerd.exitCode === null) containerd.kill("SIGKILL");
    }
    // Snapshot mounts of a container that outlived a failed test.
    for (const line of readFileSync("/proc/self/mounts", "utf8").split("\n").reverse()) {
      const target = line.split(" ")[1];
      if (dir && target?.startsWith(dir)) spawnSync("umount", ["-l", target]);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("imports the archives under the names kubeadm and the pods use, and runs busybox", async () => {
    const out = join(dir, "images");
    const specs = catalog(catalogInputs(REPO_ROOT, DEFAULT_PAUSE_REF)).filter(
      (s) => s.name === "busybox" || s.name === "pause",
    );
    assert.ok(existsSync("/usr/bin/busybox"), "busybox-static is installed (package.json debianPackages)");
    const outcomes = await buildImages({ root: REPO_ROOT, outDir: out, log: () => undefined }, specs);
    assert.deepEqual(
      outcomes.map((o) => o.state),
      ["built", "built"],
    );
    const index = readImagesIndex(out);
    for (const name of ["pause", "busybox"] as const) {
      const r = ctr("images", "import", join(out, index.images[name]!.archive));
      assert.equal(r.status, 0, r.stderr);
    }
    const ls = ctr("images", "ls");
    assert.equal(ls.status, 0, ls.stderr);
    for (const ref of ["docker.io/library/busybox:latest", DEFAULT_PAUSE_REF]) {
      const line = ls.stdout.split("\n").find((l) => l.startsWith(`${ref} `));
      assert.ok(line, `${ref} in:\n${ls.stdout}`);
      const name = ref.includes("busybox") ? "busybox" : "pause";
      assert.ok(
        line.includes(index.images[name]!.digest),
        `${ref} has the manifest digest images.json records`,
      );
    }
    const run = ctr("run", "--rm", "docker.io/library/busybox:latest", `t-${process.pid}`, "echo", "ok");
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), "ok");
  });

  it("runs install-cni from the calico-node image; the plugin it copies runs on this machine", async () => {
    const out = join(dir, "images");
    const specs = catalog(catalogInputs(REPO_ROOT, DEFAULT_PAUSE_REF)).filter(
      (s) => s.name === "calico-node",
    );
    await buildImages({ root: REPO_ROOT, outDir: out, log: () => undefined }, specs);
    const image = readImagesIndex(out).images["calico-node"]!;
    const imported = ctr("images", "import", join(out, image.archive));
    assert.equal(imported.status, 0, imported.stderr);
    const hostBin = join(dir, "host-bin");
    const hostNet = join(dir, "host-net");
    mkdirSync(hostBin);
    mkdirSync(hostNet);
    const template =
      '{"name":"k8s-pod-network","cniVersion":"0.3.1","plugins":[{"type":"calico","nodename":"__KUBERNETES_NODE_NAME__","mtu":__CNI_MTU__,"etcd_endpoints":"__ETCD_ENDPOINTS__","ipam":{"type":"calico-ipam"}}]}';
    const run = ctr(
      "run", "--rm",
      "--mount", `type=bind,src=${hostBin},dst=/host/opt/cni/bin,options=rbind:rw`,
      "--mount", `type=bind,src=${hostNet},dst=/host/etc/cni/net.d,options=rbind:rw`,
      "--env", `CNI_NETWORK_CONFIG=${template}`,
      "--env", "KUBERNETES_NODE_NAME=worker-1",
      "--env", "CNI_MTU=1440",
      "--env", "ETCD_ENDPOINTS=http://192.168.19.165:2379",
      "--env", "SLEEP=false",
      image.ref, `i-${process.pid}`, "/install-cni.sh",
    ); // prettier-ignore
    assert.equal(run.status, 0, run.stderr + run.stdout);
    const conf = JSON.parse(readFileSync(join(hostNet, "10-calico.conflist"), "utf8")) as {
      plugins: { nodename: string; mtu: number }[];
    };
    assert.deepEqual([conf.plugins[0]!.nodename, conf.plugins[0]!.mtu], ["worker-1", 1440]);
    // The copied launcher runs with this machine's node, as containerd in a guest would run it.
    const version = spawnSync(join(hostBin, "calico"), [], {
      env: { CNI_COMMAND: "VERSION" },
      input: "{}",
      encoding: "utf8",
    });
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout, /"supportedVersions":\[.*"0\.3\.1"/);
  });
});
