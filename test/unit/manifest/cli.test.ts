// scripts/render-manifest: exit codes and output, through main() with captured io.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { main } from "../../../src/cli/render.ts";
import { parseManifest } from "../../../src/manifest/index.ts";
import { assertGolden } from "../../support/golden.ts";
import { REPO_ROOT, UPSTREAM, UPSTREAM_V3_9, lineDiff, readInput } from "./helpers.ts";

function run(args: string[]) {
  let stdout = "";
  let stderr = "";
  const files: Record<string, string> = {};
  const code = main(args, {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    readFile: (p) => {
      if (p === "v3.9.yaml") return readInput("calico-v3.9.0");
      if (p.startsWith("inputs/")) return readInput(p.slice("inputs/".length).replace(/\.yaml$/, ""));
      throw Object.assign(new Error("no"), { code: "ENOENT" });
    },
    writeFile: (p, t) => {
      if (p.startsWith("/nonexistent/")) throw Object.assign(new Error("no"), { code: "ENOENT" });
      files[p] = t;
    },
  });
  return { code, stdout, stderr, files };
}

describe("render-manifest", () => {
  it(
    "renders a preset onto an upstream manifest into a file, listing the changes",
    { skip: UPSTREAM.skip },
    () => {
      const r = run([
        "--preset",
        "bgp",
        "--pod-cidr",
        "10.244.0.0/16",
        "--input",
        "v3.9.yaml",
        "-o",
        "out.yaml",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const d = lineDiff(readInput("calico-v3.9.0"), r.files["out.yaml"]!);
      assert.equal(d.removed.length, 2);
      assert.match(r.stderr, /changed: FELIX_IPINIPENABLED: added "false"/);
      assert.ok(UPSTREAM_V3_9.endsWith("calico-v3.9.0.yaml"));
    },
  );

  it("renders what the lab applies to a kubeadm stack with --node-image", () => {
    const r = run(["--stack", "ipip-k8s", "--node-image", "calico-lab/node:v0.1.0"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /image: "calico-lab\/node:v0.1.0"\n {10}imagePullPolicy: Never\n/);
    assert.doesNotMatch(r.stdout, /calico-kube-controllers|image: calico\//);
    assert.match(r.stderr, /note: calico-kube-controllers: dropped from the applied manifest/);
  });

  it("writes a stack's variant to stdout", () => {
    const r = run(["--stack", "bgp", "-q"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /name: FELIX_IPINIPENABLED\n {14}value: "false"/);
    assert.equal(r.stderr, "");
  });

  it("exits 1 listing every problem", () => {
    const r = run(["--preset", "vxlan", "--ipip", "Always", "--block-size", "19"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /3 problems/);
    assert.equal(r.stdout, "");
  });

  it(
    "exits 1 when the upstream pool overlaps the lab underlay (the sed the seed needed)",
    { skip: UPSTREAM.skip },
    () => {
      const r = run(["--preset", "bgp", "--input", "v3.9.yaml"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /overlaps the underlay/);
    },
  );

  for (const args of [
    ["--preset", "gre"],
    ["--bogus"],
    ["--block-size", "big"],
    ["--stack", "nope"],
    ["--input", "missing.yaml"],
    ["--stack", "bgp", "--preset", "bgp"],
    ["stray"],
  ]) {
    it(`usage error exits 2: ${args.join(" ")}`, () => {
      const r = run(args);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^render-manifest: .*\n\(see --help\)\n$/);
    });
  }

  it("--parse prints the agent settings", () => {
    const r = run(["--parse", "-q"]);
    assert.equal(r.code, 0);
    assert.equal(JSON.parse(r.stdout).pool.cidr, "10.244.0.0/16");
  });

  it("--help explains --etcd-endpoints for upstream calico-etcd.yaml and Helm charts", () => {
    const r = run(["--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /<ETCD_IP>:<ETCD_PORT>/);
    assert.match(r.stdout, /--etcd-endpoints http:\/\/ETCD_HOST:2379/);
    assert.match(r.stdout, /helm template/);
  });

  for (const [name, args] of [
    ["cli-two-daemonsets", ["--preset", "vxlan", "--input", "inputs/two-daemonsets.yaml"]],
    ["cli-two-daemonsets-parse", ["--parse", "--input", "inputs/two-daemonsets.yaml"]],
    ["cli-helm-template", ["--preset", "ipip", "--input", "inputs/helm-template.yaml"]],
    ["cli-helm-template-parse", ["--parse", "--input", "inputs/helm-template.yaml"]],
    ["cli-invalid-backend-parse", ["--parse", "--input", "inputs/invalid-backend.yaml"]],
    ["cli-output-unwritable", ["--preset", "bgp", "-o", "/nonexistent/calico.yaml"]],
    ["cli-input-missing", ["--input", "missing.yaml"]],
  ] as const) {
    it(`refuses with a message, exit 1 or 2, no stack trace: ${args.join(" ")}`, async () => {
      const r = run([...args]);
      assert.ok(r.code === 1 || r.code === 2, `exit ${r.code}`);
      assert.equal(r.stdout, "");
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      await assertGolden(`manifest/errors/${name}.txt`, r.stderr);
    });
  }

  it("the invalid backend renders with every bird preset (the crash the issue saw)", () => {
    for (const preset of ["ipip", "bgp", "crosssubnet"]) {
      const r = run([
        "--preset",
        preset,
        "--pod-cidr",
        "10.250.0.0/16",
        "--input",
        "inputs/invalid-backend.yaml",
        "-q",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(parseManifest(r.stdout).variant.backend, "bird");
    }
  });
});

describe("scripts/render-manifest, run from another directory", () => {
  const script = join(REPO_ROOT, "scripts", "render-manifest");
  const sh = (cwd: string, args: string[]) =>
    spawnSync(script, args, { cwd, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } });

  it("--help works outside the repository", () => {
    const dir = mkdtempSync(join(tmpdir(), "rd-cli-"));
    try {
      const r = sh(dir, ["--help"]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^usage: scripts\/render-manifest/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("relative --input and --output are the caller's; --stack and templates are the repository's", () => {
    const dir = mkdtempSync(join(tmpdir(), "rd-cli-"));
    try {
      writeFileSync(join(dir, "in.yaml"), readInput("head-shape"));
      const r = sh(dir, [
        "--preset",
        "vxlan",
        "--pod-cidr",
        "10.244.0.0/16",
        "--input",
        "in.yaml",
        "-o",
        "out.yaml",
        "-q",
      ]);
      assert.equal(r.status, 0, r.stderr);
      const out = readFileSync(join(dir, "out.yaml"), "utf8");
      assert.equal(parseManifest(out).variant.backend, "vxlan");
      assert.doesNotMatch(out, /- --bird-/);
      const stack = sh(dir, ["--stack", "bgp", "-q"]);
      assert.equal(stack.status, 0, stack.stderr);
      assert.equal(parseManifest(stack.stdout).variant.felixIpipEnabled, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
