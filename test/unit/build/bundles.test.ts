// The bundle staleness logic, with real esbuild (a build of a two-file project takes milliseconds):
// a scratch project under dist/ (so a bundle finds esbuild in the repository's node_modules when it
// rebuilds itself), built, changed, checked and run.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import {
  LAB_BUNDLES,
  REPO_ROOT,
  buildBundle,
  bundlePath,
  ensureBundle,
  entryArgv,
  metaPath,
  packageDirExpr,
  staleReason,
  type BundleSet,
} from "../../../src/build/bundles.ts";

let set: BundleSet;
const src = (f: string) => join(set.root, "src", f);
const runBundle = () =>
  spawnSync(process.execPath, [bundlePath("hello", set), "a1"], { encoding: "utf8", input: "from stdin" });

before(() => {
  mkdirSync(join(REPO_ROOT, "dist"), { recursive: true });
  const root = mkdtempSync(join(REPO_ROOT, "dist", "bundle-test-"));
  set = { root, outDir: join(root, "dist", "bin"), entries: { hello: "src/hello.ts" } };
  mkdirSync(join(root, "src"));
  writeFileSync(src("dep.ts"), `export const greeting: string = "one";\n`);
  writeFileSync(
    src("hello.ts"),
    [
      `import { readFileSync } from "node:fs";`,
      `import { fileURLToPath } from "node:url";`,
      `import { greeting } from "./dep.ts";`,
      `const stdin = readFileSync(0, "utf8");`,
      `console.log(JSON.stringify({ greeting, argv: process.argv.slice(2), stdin, self: fileURLToPath(import.meta.url) }));`,
      ``,
    ].join("\n"),
  );
});

after(() => rmSync(set.root, { recursive: true, force: true }));

describe("process bundles", () => {
  it("a bundle never built is stale; once built it is fresh and runs with arguments and stdin", async () => {
    assert.equal(staleReason("hello", set), "never built");
    const meta = await buildBundle("hello", set);
    assert.ok(meta.inputs["src/hello.ts"] && meta.inputs["src/dep.ts"], Object.keys(meta.inputs).join(", "));
    assert.equal(staleReason("hello", set), null);
    const r = runBundle();
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual([out.greeting, out.argv, out.stdin], ["one", ["a1"], "from stdin"]);
    // import.meta.url still names the source file, not the bundle (sources find files next to them).
    assert.equal(out.self, src("hello.ts"));
    assert.ok(readFileSync(`${bundlePath("hello", set)}.map`, "utf8").includes("dep.ts"), "source map");
  });

  it("a touched but unchanged input keeps the bundle fresh; a changed one names the file", async () => {
    await ensureBundle("hello", set);
    const later = new Date(Date.now() + 5000);
    utimesSync(src("dep.ts"), later, later);
    assert.equal(staleReason("hello", set), null);
    writeFileSync(src("dep.ts"), `export const greeting: string = "two";\n`);
    assert.equal(staleReason("hello", set), "src/dep.ts changed");
    writeFileSync(src("dep.ts"), `export const greeting: string = "2wo";\n`); // same size, new mtime
    assert.equal(staleReason("hello", set), "src/dep.ts changed");
    await ensureBundle("hello", set);
    assert.equal(staleReason("hello", set), null);
    assert.equal(JSON.parse(runBundle().stdout).greeting, "2wo");
  });

  it("a removed input, a changed or missing bundle, a lost meta or other options make it stale", async () => {
    await ensureBundle("hello", set);
    appendFileSync(bundlePath("hello", set), "\n// edited by hand\n");
    assert.equal(staleReason("hello", set), "dist/bin/hello.mjs changed");
    rmSync(bundlePath("hello", set));
    assert.equal(staleReason("hello", set), "dist/bin/hello.mjs changed");
    await ensureBundle("hello", set);
    const meta = JSON.parse(readFileSync(metaPath("hello", set), "utf8"));
    writeFileSync(metaPath("hello", set), JSON.stringify({ ...meta, options: "other" }));
    assert.equal(staleReason("hello", set), "build options changed");
    writeFileSync(
      metaPath("hello", set),
      JSON.stringify({ ...meta, inputs: { ...meta.inputs, "src/gone.ts": meta.inputs["src/dep.ts"] } }),
    );
    assert.equal(staleReason("hello", set), "src/gone.ts changed");
    rmSync(metaPath("hello", set));
    assert.equal(staleReason("hello", set), "never built");
    assert.throws(() => staleReason("nope", set), /no bundle entry named nope/);
  });

  it("a stale bundle run directly rebuilds itself and runs the new code with the same stdin", async () => {
    await ensureBundle("hello", set);
    writeFileSync(src("dep.ts"), `export const greeting: string = "three";\n`);
    const r = runBundle();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /bundle stale \(src\/dep\.ts changed\); rebuilding/);
    assert.deepEqual(JSON.parse(r.stdout), {
      greeting: "three",
      argv: ["a1"],
      stdin: "from stdin",
      self: src("hello.ts"),
    });
    assert.equal(staleReason("hello", set), null);
  });

  it("concurrent ensures in one process all wait for the build and see a fresh bundle", async () => {
    writeFileSync(src("dep.ts"), `export const greeting: string = "four";\n`);
    const before = statSync(src("dep.ts")).mtimeMs;
    await Promise.all([ensureBundle("hello", set), ensureBundle("hello", set), ensureBundle("hello", set)]);
    assert.equal(staleReason("hello", set), null);
    assert.equal(
      JSON.parse(readFileSync(metaPath("hello", set), "utf8")).inputs["src/dep.ts"].mtimeMs,
      before,
    );
  });

  it("the lab's launchers get node and a fresh bundle of theirs", async () => {
    const argv = await entryArgv("echo-server");
    assert.deepEqual(argv, [process.execPath, join(REPO_ROOT, "dist", "bin", "echo-server.mjs")]);
    assert.equal(staleReason("echo-server", LAB_BUNDLES), null);
  });

  it("a library bundle exports its entry's exports and runs nothing by itself", async () => {
    const lib: BundleSet = { ...set, entries: { ...set.entries, lib: "src/dep.ts" }, libraries: ["lib"] };
    await buildBundle("lib", lib);
    const mod = (await import(pathToFileURL(bundlePath("lib", lib)).href)) as { greeting: string };
    assert.equal(mod.greeting, JSON.parse(runBundle().stdout).greeting);
    assert.equal(staleReason("lib", lib), null);
  });

  it("a bundle that loads etcd3 still finds its .proto files after the checkout moved", async () => {
    // A project of its own with etcd3 in its node_modules (etcd3's dependencies resolve from the
    // repository's); built, then moved: its old folder, and the etcd3 copy in it, are gone.
    const old = mkdtempSync(join(REPO_ROOT, "dist", "bundle-move-"));
    const moved = `${old}-moved`;
    try {
      const etcd3 = dirname(createRequire(import.meta.url).resolve("etcd3/package.json"));
      cpSync(etcd3, join(old, "node_modules", "etcd3"), { recursive: true });
      mkdirSync(join(old, "src"));
      writeFileSync(
        join(old, "src", "client.ts"),
        `import { Etcd3 } from "etcd3";\nconsole.log(typeof new Etcd3({ hosts: "127.0.0.1:1" }).get);\n`,
      );
      const at = (root: string): BundleSet => ({
        root,
        outDir: join(root, "dist", "bin"),
        entries: { client: "src/client.ts" },
      });
      await buildBundle("client", at(old));
      const text = readFileSync(bundlePath("client", at(old)), "utf8");
      assert.ok(!text.includes(old), `the bundle names its checkout's folder ${old}`);
      renameSync(old, moved);
      assert.equal(staleReason("client", at(moved)), null, "a move changes no input");
      const r = spawnSync(process.execPath, [bundlePath("client", at(moved))], { encoding: "utf8" });
      assert.equal(r.stderr, "");
      assert.equal(r.stdout, "function\n");
    } finally {
      rmSync(old, { recursive: true, force: true });
      rmSync(moved, { recursive: true, force: true });
    }
  });

  it("names a package folder by the package, found from the bundle at run time", () => {
    assert.equal(
      packageDirExpr("/x/node_modules/etcd3/lib/connection-pool.js"),
      'require("node:path").join(require("node:path").dirname(require.resolve("etcd3/package.json")), "lib")',
    );
    assert.match(
      packageDirExpr("/x/node_modules/a/node_modules/@s/p/x.js"),
      /"@s\/p\/package\.json"\)\), ""\)$/,
    );
    assert.throws(() => packageDirExpr("/x/src/a.js"), /not a package file/);
  });
});
