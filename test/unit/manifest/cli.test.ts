// scripts/render-manifest: exit codes and output, through main() with captured io.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { main } from "../../../src/cli/render.ts";
import { UPSTREAM, UPSTREAM_V3_9, lineDiff, readInput } from "./helpers.ts";

function run(args: string[]) {
  let stdout = "";
  let stderr = "";
  const files: Record<string, string> = {};
  const code = main(args, {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    readFile: (p) =>
      p === "v3.9.yaml"
        ? readInput("calico-v3.9.0")
        : (() => {
            throw new Error("no");
          })(),
    writeFile: (p, t) => (files[p] = t),
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
});
