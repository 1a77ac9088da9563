// The plain-JavaScript freshness check (src/build/freshness.mjs) against bundles.ts's, on a scratch project,
// also from a node process without tsx; and the lab's program bundle, which src/main.js imports without tsx
// when it is fresh and rebuilds first when it is not.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import * as bundles from "../../../src/build/bundles.ts";
import * as freshness from "../../../src/build/freshness.mjs";
import type { BundleSet } from "../../../src/build/bundles.ts";

const { REPO_ROOT, LAB_BUNDLES } = bundles;
const FRESHNESS_URL = pathToFileURL(join(REPO_ROOT, "src", "build", "freshness.mjs")).href;

/** Node alone (no tsx in its argv or NODE_OPTIONS) running an ES module given as text; its stdout as JSON. */
function plainNode(code: string, env: NodeJS.ProcessEnv = {}): unknown {
  const clean = { ...process.env, ...env };
  delete clean.NODE_OPTIONS;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: clean,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

let set: BundleSet;
const src = (f: string) => join(set.root, "src", f);

/** Both answers agree, in this process and in a node without tsx; returns the reason. */
function agreed(name: string): string | null {
  const viaTs = bundles.staleReason(name, set);
  assert.equal(freshness.staleReason(name, set), viaTs);
  const plain = plainNode(
    `import { staleReason, freshUrl } from ${JSON.stringify(FRESHNESS_URL)};\n` +
      `const set = ${JSON.stringify(set)};\n` +
      `console.log(JSON.stringify([staleReason("hello", set), freshUrl("hello", set)]));`,
  );
  const url = viaTs === null ? pathToFileURL(bundles.bundlePath(name, set)).href : null;
  assert.deepEqual(plain, [viaTs, url]);
  assert.equal(freshness.freshUrl(name, set), url);
  return viaTs;
}

before(() => {
  mkdirSync(join(REPO_ROOT, "dist"), { recursive: true });
  const root = mkdtempSync(join(REPO_ROOT, "dist", "freshness-test-"));
  set = { root, outDir: join(root, "dist", "bin"), entries: { hello: "src/hello.ts" } };
  mkdirSync(join(root, "src"));
  writeFileSync(src("dep.ts"), `export const greeting: string = "one";\n`);
  writeFileSync(src("hello.ts"), `import { greeting } from "./dep.ts";\nconsole.log(greeting);\n`);
});

after(() => rmSync(set.root, { recursive: true, force: true }));

describe("freshness.mjs", () => {
  it("answers as bundles.ts does: never built, fresh, touched only, edited, meta lost", async () => {
    assert.equal(agreed("hello"), "never built");
    await bundles.buildBundle("hello", set);
    assert.equal(agreed("hello"), null);
    const later = new Date(Date.now() + 5000);
    utimesSync(src("dep.ts"), later, later);
    assert.equal(agreed("hello"), null);
    writeFileSync(src("dep.ts"), `export const greeting: string = "two";\n`);
    assert.equal(agreed("hello"), "src/dep.ts changed");
    await bundles.ensureBundle("hello", set);
    assert.equal(agreed("hello"), null);
    appendFileSync(bundles.bundlePath("hello", set), "\n// edited by hand\n");
    assert.equal(agreed("hello"), "dist/bin/hello.mjs changed");
    await bundles.buildBundle("hello", set);
    rmSync(bundles.metaPath("hello", set));
    assert.equal(agreed("hello"), "never built");
  });

  it("is what bundles.ts decides with: one options hash, the externals every bundle leaves to node", () => {
    assert.equal(bundles.optionsHash(set, "hello"), freshness.optionsHash(set, "hello"));
    assert.equal(bundles.EXTERNAL, freshness.EXTERNAL);
    for (const p of ["esbuild", "@pulumi/pulumi", "tsx"]) assert.ok(bundles.EXTERNAL.includes(p as never), p);
    assert.equal(bundles.LIBRARIES, freshness.LIBRARIES);
    assert.equal(freshness.REPO_ROOT, REPO_ROOT);
  });
});

describe("the program bundle (src/main.js)", () => {
  const mainUrl = pathToFileURL(join(REPO_ROOT, "src", "main.js")).href;
  const programBundle = bundles.bundlePath("program");
  /** src/main.js imported by node alone: which way it loaded the program (its load span's label). */
  const runMain = (): unknown => {
    const dir = mkdtempSync(join(tmpdir(), "main-load-"));
    try {
      const file = join(dir, "spans.jsonl");
      const out = plainNode(
        `const m = await import(${JSON.stringify(mainUrl)});\nconsole.log(JSON.stringify(typeof m.default));`,
        { CALICO_LAB_TIMINGS: file },
      );
      assert.equal(out, "function");
      const spans = readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      assert.equal(spans.length, 1);
      assert.deepEqual([spans[0].what, spans[0].op], ["program", "load"]);
      return spans[0].label;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it("is a library of the lab that exports main, with @pulumi/pulumi and tsx left out", async () => {
    assert.equal(bundles.LIBRARIES.program, "src/program.ts");
    assert.ok(LAB_BUNDLES.libraries?.includes("program"));
    await bundles.ensureBundle("program");
    assert.equal(freshness.freshLibraryUrl("program"), pathToFileURL(programBundle).href);
    const meta = JSON.parse(readFileSync(bundles.metaPath("program"), "utf8")) as { inputs: object };
    const packaged = Object.keys(meta.inputs).filter((f) => /node_modules\/(@pulumi\/pulumi|tsx)\//.test(f));
    assert.deepEqual(packaged, []);
    const exported = plainNode(
      `const m = await import(${JSON.stringify(pathToFileURL(programBundle).href)});\n` +
        `console.log(JSON.stringify(["main", "timed", "nowMs", "recordTiming"].map((k) => typeof m[k])));`,
    );
    assert.deepEqual(exported, ["function", "function", "function", "function"]);
  });

  it("main.js imports a fresh bundle without tsx, and rebuilds a stale one first", async () => {
    await bundles.ensureBundle("program");
    assert.equal(runMain(), "fresh");
    appendFileSync(programBundle, "\n// edited by hand\n");
    assert.equal(bundles.staleReason("program"), "dist/bin/program.mjs changed");
    assert.equal(runMain(), "rebuilt");
    assert.equal(bundles.staleReason("program"), null);
    assert.equal(runMain(), "fresh");
  });
});
