// Every node process the lab spawns (agent daemon, calico-node startup, CNI plugin, calicoctl, …) runs
// from a bundle: one ESM file per entry point in dist/bin/, built by esbuild in milliseconds. A bundle
// starts in tens of milliseconds and needs a fraction of the memory of `node --import tsx <file>.ts`,
// which compiles (or reads its cache for) every TypeScript file on each start.
//
// Stale code never runs: next to each bundle, <name>.meta.json records every input esbuild read (size,
// mtime, sha256) and the build options. A bundle is fresh when every input still has its recorded content
// (decided in freshness.mjs, plain JavaScript, which the program's and the provider's loaders use without tsx);
// launchers call `entryArgv(name)`, which rebuilds a stale bundle before returning the argv, and each
// bundle checks itself when it starts (`selfCheck`, for `node dist/bin/<name>.mjs` run by hand and the
// executables in scripts/): a stale one rebuilds and runs the fresh one in its place.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as freshness from "./freshness.mjs";
import {
  EXTERNAL,
  LAB_OUT_DIR,
  LIBRARIES,
  REPO_ROOT,
  TARGET,
  optionsHash,
  readMeta,
  record,
  type BundleMeta,
  type BundleSet,
  type InputRecord,
} from "./freshness.mjs";

export { EXTERNAL, LIBRARIES, REPO_ROOT, optionsHash };
export type { BundleMeta, BundleSet };

/** Entry points the lab spawns as processes, by bundle name. */
export const ENTRIES = {
  agent: "src/agent/daemon/main.ts",
  "calico-node": "src/agent/node-main.ts",
  cni: "src/agent/cni/main.ts",
  "apply-resources": "src/lab/apply-main.ts",
  "echo-server": "src/lab/echo-server.ts",
  calicoctl: "src/cli/calicoctl.ts",
  "vm-guest": "src/vm/guest/server.ts",
  "vm-exec": "src/vm/guest/exec-main.ts",
} as const;
export type EntryName = keyof typeof ENTRIES;

// Modules imported by a long-lived process rather than run (LIBRARIES: the provider's handlers, the program)
// and the packages every bundle leaves to node's resolver (EXTERNAL) are defined in freshness.mjs, as they
// decide freshness too.

/**
 * Package files that find their data through __dirname (in a bundle it would name dist/bin): etcd3 loads
 * its .proto files from its own folder. Bundled with __dirname replaced by that folder, which saves each
 * process resolving and loading ~130 files (about 60 ms and 7 MB a start). The folder is found when the
 * bundle runs (resolved from the bundle, as the package itself would be), never written in at build time:
 * a moved or copied checkout keeps fresh bundles that still find it.
 */
const DIRNAME_USERS = /\/node_modules\/etcd3\/lib\/connection-pool\.js$/;

/**
 * The run-time expression for the folder of a package file: `<package>/package.json` resolved by the
 * bundle's require, then the file's folder inside the package.
 */
export function packageDirExpr(file: string): string {
  const inPackage = file.split("/node_modules/").at(-1) ?? "";
  const parts = inPackage.split("/");
  const nameParts = parts[0]?.startsWith("@") ? 2 : 1;
  const name = parts.slice(0, nameParts).join("/");
  const sub = parts.slice(nameParts, -1).join("/");
  if (!name || !file.includes("/node_modules/")) throw new Error(`not a package file: ${file}`);
  const path = `require("node:path")`;
  return `${path}.join(${path}.dirname(require.resolve(${JSON.stringify(`${name}/package.json`)})), ${JSON.stringify(sub)})`;
}

export const LAB_BUNDLES: BundleSet = {
  root: REPO_ROOT,
  outDir: LAB_OUT_DIR,
  entries: { ...ENTRIES, ...LIBRARIES },
  libraries: Object.keys(LIBRARIES),
};

export const bundlePath = (name: string, set: BundleSet = LAB_BUNDLES) => freshness.bundlePath(name, set);
export const metaPath = (name: string, set: BundleSet = LAB_BUNDLES) => freshness.metaPath(name, set);

/** Why the bundle must be rebuilt, or null when it is fresh. Reads only the filesystem (no esbuild). */
export const staleReason = (name: string, set: BundleSet = LAB_BUNDLES): string | null =>
  freshness.staleReason(name, set);

// Spelled in pieces so that the rewrite of this very file (below) leaves the generated code alone.
const META_URL = ["import", "meta", "url"].join(".");

/** An expression for the URL the source file had before bundling, relative to the bundle (movable). */
function sourceUrlExpr(file: string, bundleDir: string): string {
  const rel = relative(bundleDir, file).split("\\").join("/");
  return `new URL(${JSON.stringify(rel)}, ${META_URL}).href`;
}

function virtualEntry(name: string, set: BundleSet): string {
  const selfCheckFrom = JSON.stringify(fileURLToPath(import.meta.url));
  const main = JSON.stringify(join(set.root, set.entries[name]!));
  // A library is checked by whoever imports it (loadLibrary), before the import.
  if (set.libraries?.includes(name)) return `export * from ${main};\n`;
  // The entry is imported dynamically, so its module code runs only after the check passed.
  return (
    `import { selfCheck } from ${selfCheckFrom};\n` +
    `await selfCheck(${JSON.stringify(name)}, ${META_URL});\n` +
    `await import(${main});\n`
  );
}

/** Writes a file next to its final name, then renames it: readers see the old or the new, never half. */
function writeAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/** Builds one bundle (bundle, source map, meta), whatever its state. */
export async function buildBundle(name: string, set: BundleSet = LAB_BUNDLES): Promise<BundleMeta> {
  const entry = set.entries[name];
  if (entry === undefined) throw new Error(`no bundle entry named ${name}`);
  const esbuild = await import("esbuild");
  const outfile = bundlePath(name, set);
  const namespace = "calico-lab-entry";
  const result = await esbuild.build({
    absWorkingDir: set.root,
    entryPoints: [`${namespace}:${name}`],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    target: TARGET,
    sourcemap: "linked",
    external: [...EXTERNAL],
    // Bundled CommonJS packages call require(): give the ESM bundle one.
    banner: {
      js: `import { createRequire as __calicoLabCreateRequire } from "node:module"; const require = __calicoLabCreateRequire(${META_URL});`,
    },
    metafile: true,
    write: false,
    logLevel: "silent",
    plugins: [
      {
        name: "calico-lab",
        setup(b) {
          b.onResolve({ filter: new RegExp(`^${namespace}:`) }, (a) => ({ path: a.path, namespace }));
          b.onLoad({ filter: /.*/, namespace }, () => ({
            contents: virtualEntry(name, set),
            loader: "ts",
            resolveDir: set.root,
          }));
          b.onLoad({ filter: DIRNAME_USERS }, (a) => ({
            contents: readFileSync(a.path, "utf8").split("__dirname").join(packageDirExpr(a.path)),
            loader: "js",
          }));
          // Our sources locate files next to themselves (templates, the repo root) through import.meta.url:
          // in a bundle it would name the bundle, so it is replaced by the URL of the source file (our plain
          // JavaScript modules too: freshness.mjs finds the repository root so).
          b.onLoad({ filter: /\.(ts|mjs)$/ }, (a) => {
            if (a.path.includes("/node_modules/")) return undefined;
            const text = readFileSync(a.path, "utf8");
            if (!text.includes(META_URL)) return undefined;
            return {
              contents: text.split(META_URL).join(sourceUrlExpr(a.path, dirname(outfile))),
              loader: a.path.endsWith(".mjs") ? "js" : "ts",
            };
          });
        },
      },
    ],
  });
  mkdirSync(set.outDir, { recursive: true });
  let code: Uint8Array | undefined;
  for (const f of result.outputFiles) {
    if (f.path === outfile) code = f.contents;
    else writeAtomic(f.path, f.contents);
  }
  if (code === undefined) throw new Error(`esbuild wrote no ${outfile}`);
  const inputs: Record<string, InputRecord> = {};
  for (const key of Object.keys(result.metafile.inputs)) {
    if (key.startsWith(`${namespace}:`)) continue;
    inputs[key] = record(resolve(set.root, key));
  }
  writeAtomic(outfile, code);
  const meta: BundleMeta = {
    format: 1,
    entry,
    root: relative(set.outDir, set.root) || ".",
    options: optionsHash(set, name),
    inputs,
    output: record(outfile),
  };
  writeAtomic(metaPath(name, set), JSON.stringify(meta, null, 1) + "\n");
  return meta;
}

const building = new Map<string, Promise<void>>();

/**
 * Rebuilds the bundle when it is stale; concurrent callers in one process share one build, and a build
 * racing another process's is harmless (each file is replaced whole).
 */
export async function ensureBundle(name: string, set: BundleSet = LAB_BUNDLES): Promise<void> {
  if (staleReason(name, set) === null) return;
  const key = bundlePath(name, set);
  let p = building.get(key);
  if (!p) {
    p = buildBundle(name, set)
      .then(() => undefined)
      .finally(() => building.delete(key));
    building.set(key, p);
  }
  await p;
}

/**
 * Node options per entry. The agent lives as long as the lab and is idle most of the time, but a burst
 * of datastore events grows V8's young generation to its default maximum (16 MB semi-spaces, ~48 MB
 * resident) and keeps it: in a 50-host lab, 50 agents each holding ~100 MB. Semi-spaces of 1 MB cost a
 * few more scavenges in a burst.
 */
export const NODE_OPTIONS: Partial<Record<EntryName, readonly string[]>> = {
  agent: ["--max-semi-space-size=1"],
};

/** The argv that runs a lab entry point: `node dist/bin/<name>.mjs`, rebuilt first when stale. */
export async function entryArgv(name: EntryName): Promise<string[]> {
  await ensureBundle(name);
  return [process.execPath, ...(NODE_OPTIONS[name] ?? []), bundlePath(name)];
}

/**
 * The URL of a library bundle of the lab (see LIBRARIES), rebuilt first when stale. The caller imports
 * it: an import from a module loaded through tsx's tsImport would have tsx transform the whole bundle.
 */
export async function libraryUrl(name: keyof typeof LIBRARIES): Promise<string> {
  await ensureBundle(name);
  return pathToFileURL(bundlePath(name)).href;
}

const REBUILT = "CALICO_LAB_BUNDLE_REBUILT";

/**
 * Run first by every bundle (see virtualEntry): when the bundle is stale, rebuild it and run the new one
 * with the same arguments, standard input and output, then exit with its status. Builds from the meta
 * next to the bundle, so it works for any bundle set.
 */
export async function selfCheck(name: string, bundleUrl: string): Promise<void> {
  const outDir = dirname(fileURLToPath(bundleUrl));
  const meta = readMeta(name, { root: outDir, outDir, entries: {} });
  const set: BundleSet = {
    root: meta ? resolve(outDir, meta.root) : outDir,
    outDir,
    entries: { [name]: meta?.entry ?? "" },
  };
  const why = meta ? staleReason(name, set) : "no meta next to the bundle";
  if (why === null) return;
  if (process.env[REBUILT] || !meta) {
    process.stderr.write(
      `${name}: bundle ${fileURLToPath(bundleUrl)} is stale (${why}) and rebuilding did not help\n`,
    );
    process.exit(70);
  }
  process.stderr.write(`${name}: bundle stale (${why}); rebuilding\n`);
  await buildBundle(name, set);
  const r = spawnSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(bundleUrl), ...process.argv.slice(2)],
    {
      stdio: "inherit",
      env: { ...process.env, [REBUILT]: "1" },
    },
  );
  process.exit(r.status ?? 1);
}
