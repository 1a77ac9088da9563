// What decides whether a bundle in dist/bin is fresh (src/build/bundles.ts builds them): the one
// implementation, in plain JavaScript so that a process can check a bundle and import it without loading tsx
// first. Pulumi's runner (src/main.js, the program bundle) and the dynamic-provider process
// (src/lab/providers/dynamic.ts, the provider bundle) import a fresh bundle straight away; only a stale one
// costs them tsx and bundles.ts, which rebuild it. bundles.ts uses these same functions. Types:
// freshness.d.mts.
//
// Next to each bundle, <name>.meta.json records every input esbuild read (size, mtime, sha256), the bundle's
// own record and a hash of the build options. A bundle is fresh when the options hash is the same and every
// recorded file still has its recorded content. Reads only the filesystem.
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import process from "node:process";
import { URL, fileURLToPath, pathToFileURL } from "node:url";

/** The repository root (this file is src/build/freshness.mjs). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * Modules imported by a long-lived process rather than run, by bundle name. Pulumi's dynamic-provider
 * process loads the resource handlers (dispatch.ts) from a bundle instead of compiling ~50 files through tsx
 * on every `pulumi up` and `destroy`; Pulumi's runner loads the program (src/main.js) from one instead of
 * compiling ~100.
 */
export const LIBRARIES = Object.freeze({
  provider: "src/lab/providers/dispatch.ts",
  program: "src/program.ts",
});

/**
 * Left to node's resolver at run time, in every bundle: esbuild drives a native binary (and only a rebuild
 * loads it); @pulumi/pulumi must be the very instance Pulumi's runner loaded (its engine connection, its
 * stack, its closure serializer all live in module state); tsx is only ever the fallback that rebuilds a
 * stale bundle, and loads its own hooks.
 */
export const EXTERNAL = Object.freeze(["esbuild", "@pulumi/pulumi", "tsx"]);

/** esbuild's target for every bundle. */
export const TARGET = "node20";

/** Where the lab's bundles are built (src/build/bundles.ts: LAB_BUNDLES). */
export const LAB_OUT_DIR = join(REPO_ROOT, "dist", "bin");

export const bundlePath = (name, set) => join(set.outDir, `${name}.mjs`);
export const metaPath = (name, set) => join(set.outDir, `${name}.meta.json`);

export const sha256 = (data) => createHash("sha256").update(data).digest("hex");

/** What the meta records of one file. */
export function record(file) {
  const data = readFileSync(file);
  const st = statSync(file);
  return { size: st.size, mtimeMs: st.mtimeMs, sha256: sha256(data) };
}

/** Unchanged when size and mtime match; when they do not, the content decides (a `touch` is not a change). */
export function unchanged(file, rec) {
  let st;
  try {
    st = statSync(file);
  } catch {
    return false;
  }
  if (st.size !== rec.size) return false;
  if (st.mtimeMs === rec.mtimeMs) return true;
  return sha256(readFileSync(file)) === rec.sha256;
}

export function esbuildVersion(root) {
  try {
    return JSON.parse(readFileSync(join(root, "node_modules", "esbuild", "package.json"), "utf8")).version;
  } catch {
    return "missing";
  }
}

/** The options hash: a change of entry, externals, target or esbuild version makes every bundle stale. */
export function optionsHash(set, name) {
  return sha256(
    JSON.stringify({
      entry: set.entries[name],
      external: EXTERNAL,
      target: TARGET,
      esbuild: esbuildVersion(set.root),
    }),
  ).slice(0, 16);
}

/** The bundle's meta, or null when there is none (or of another format). */
export function readMeta(name, set) {
  try {
    const m = JSON.parse(readFileSync(metaPath(name, set), "utf8"));
    return m.format === 1 ? m : null;
  } catch {
    return null;
  }
}

/** Why the bundle must be rebuilt, or null when it is fresh. */
export function staleReason(name, set) {
  const entry = set.entries[name];
  if (entry === undefined) throw new Error(`no bundle entry named ${name}`);
  const meta = readMeta(name, set);
  if (meta === null) return "never built";
  if (meta.entry !== entry || meta.options !== optionsHash(set, name)) return "build options changed";
  if (!unchanged(bundlePath(name, set), meta.output))
    return `${relative(set.root, bundlePath(name, set))} changed`;
  for (const [file, rec] of Object.entries(meta.inputs)) {
    if (!unchanged(join(set.root, file), rec)) return `${file} changed`;
  }
  return null;
}

/** The bundle's file URL when it is fresh, else null. */
export function freshUrl(name, set) {
  return staleReason(name, set) === null ? pathToFileURL(bundlePath(name, set)).href : null;
}

/** The lab's library bundles (LIBRARIES) as a bundle set: the same options hash as in LAB_BUNDLES. */
const LIBRARY_SET = Object.freeze({ root: REPO_ROOT, outDir: LAB_OUT_DIR, entries: LIBRARIES });

/**
 * The file URL of one of the lab's library bundles when it is fresh, else null: then the caller rebuilds it
 * through bundles.ts (`libraryUrl`, which needs tsx).
 */
export function freshLibraryUrl(name) {
  return freshUrl(name, LIBRARY_SET);
}

/**
 * One of the lab's library bundles, imported: a fresh one straight away, a stale one after bundles.ts
 * (loaded by tsx, only then) has rebuilt it. The bundle is imported by node alone, not transformed by tsx
 * (tsImport, not register()); stack traces map to our .ts files through its source map. What Pulumi's
 * runner (src/main.js: the program) and the dynamic-provider process (dynamic.ts: the handlers) both do.
 */
export async function importLibrary(name) {
  process.setSourceMapsEnabled(true);
  let url = freshLibraryUrl(name);
  const loaded = url === null ? "rebuilt" : "fresh";
  if (url === null) {
    const { tsImport } = await import("tsx/esm/api");
    const bundlesUrl = new URL("./bundles.ts", import.meta.url).href;
    const bundles = await tsImport(bundlesUrl, bundlesUrl);
    url = await bundles.libraryUrl(name);
  }
  return { module: await import(url), loaded };
}
