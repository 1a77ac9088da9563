// Builds the catalog's images into OCI archives: <out>/<name>.tar and <out>/images.json (name → ref,
// archive, manifest digest). Each image is planned first (which files, their sizes and mtimes, the bundles'
// and Go program's bytes): an image whose plan did not change and whose archive is still there is skipped.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { basename, isAbsolute, join } from "node:path";
import { bundlePath, ensureBundle } from "../build/bundles.ts";
import { imageBundles } from "./bundles.ts";
import {
  imageRef,
  imageTag,
  type ImageName,
  type ImageSpec,
  type LayerSource,
  type LayerSpec,
} from "./catalog.ts";
import {
  hostFileAt,
  hostFileEntries,
  hostFilesOf,
  hostTreeEntries,
  sharedLibraries,
  type PlanEntry,
} from "./host-files.ts";
import { imageArchive, makeLayer, type Descriptor, type Layer } from "./oci.ts";
import type { TarEntry } from "./tar.ts";

export const INDEX_FILE = "images.json";

export interface IndexedImage {
  ref: string;
  /** The archive's file name in the images folder. */
  archive: string;
  /** The manifest's digest: what `ctr images ls` shows for the imported image. */
  digest: string;
  size: number;
  layers: readonly Descriptor[];
  /** A digest of the image's plan: unchanged inputs, unchanged image. */
  inputs: string;
}

export interface ImagesIndex {
  format: 1;
  images: Partial<Record<ImageName, IndexedImage>>;
}

export function readImagesIndex(outDir: string): ImagesIndex {
  try {
    const idx = JSON.parse(readFileSync(join(outDir, INDEX_FILE), "utf8")) as ImagesIndex;
    if (idx.format === 1 && typeof idx.images === "object") return idx;
  } catch {
    // none yet, or unreadable: every image is built
  }
  return { format: 1, images: {} };
}

function writeAtomic(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

export interface BuildContext {
  /** Project root: project-relative paths of the catalog resolve against it. */
  root: string;
  outDir: string;
  log: (line: string) => void;
}

/** Why an image cannot be built here (an input is missing), or null. */
export function missingInput(spec: ImageSpec, root: string): string | null {
  for (const l of spec.layers)
    for (const s of l.sources) {
      if (s.kind !== "host" && s.kind !== "hostTree") continue;
      const p = isAbsolute(s.from) ? s.from : join(root, s.from);
      if (!existsSync(p)) return `${p} does not exist`;
    }
  return null;
}

const abs = (root: string, p: string) => (isAbsolute(p) ? p : join(root, p));

/** Builds a static Go program into the build folder and returns its bytes. */
function goBuild(ctx: BuildContext, dir: string): Buffer {
  const out = join(ctx.outDir, "build", basename(dir));
  mkdirSync(join(ctx.outDir, "build"), { recursive: true });
  const r = spawnSync(
    "go",
    ["build", "-C", abs(ctx.root, dir), "-trimpath", "-ldflags", "-s -w -buildid=", "-o", out, "."],
    {
      env: { ...process.env, CGO_ENABLED: "0", GOTOOLCHAIN: "local", GOPROXY: "off", GOFLAGS: "" },
      encoding: "utf8",
    },
  );
  if (r.status !== 0)
    throw new Error(`go build in ${dir} failed:\n${(r.stderr || r.stdout || String(r.error)).trim()}`);
  return readFileSync(out);
}

/** The plan of one layer source. */
async function planSource(ctx: BuildContext, s: LayerSource): Promise<PlanEntry[]> {
  switch (s.kind) {
    case "text":
      return [
        { type: "file", path: s.path, data: s.content, ...(s.mode === undefined ? {} : { mode: s.mode }) },
      ];
    case "symlink":
      return [{ type: "symlink", path: s.path, target: s.target }];
    case "dir":
      return [{ type: "dir", path: s.path, ...(s.mode === undefined ? {} : { mode: s.mode }) }];
    case "go":
      return [{ type: "file", path: s.to, mode: 0o755, data: goBuild(ctx, s.dir) }];
    case "bundle": {
      const set = imageBundles(ctx.root);
      await ensureBundle(s.name, set);
      return [{ type: "file", path: s.to, mode: 0o644, data: readFileSync(bundlePath(s.name, set)) }];
    }
    case "packageFiles":
      return Promise.all(
        s.files.map(async (f): Promise<PlanEntry> =>
          f.endsWith("/")
            ? { type: "dir", path: join(s.to, f) }
            : hostFileAt(join(abs(ctx.root, s.from), f), join(s.to, f), 0o644),
        ),
      );
    case "host": {
      const from = abs(ctx.root, s.from);
      const own = s.to === undefined ? await hostFileEntries(from) : [await hostFileAt(from, s.to, s.mode)];
      return [...own, ...(s.libraries ? await libraryEntries(hostFilesOf(own)) : [])];
    }
    case "hostTree": {
      const tree = await hostTreeEntries(abs(ctx.root, s.from));
      return [...tree, ...(s.libraries ? await libraryEntries(hostFilesOf(tree)) : [])];
    }
  }
}

async function libraryEntries(files: readonly string[]): Promise<PlanEntry[]> {
  const libs = await sharedLibraries(files);
  return (await Promise.all(libs.map((l) => hostFileEntries(l)))).flat();
}

export async function planLayer(ctx: BuildContext, spec: LayerSpec): Promise<PlanEntry[]> {
  return (await Promise.all(spec.sources.map((s) => planSource(ctx, s)))).flat();
}

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

/** The digest of an image's plan: its spec, every host file's path, size and mtime, every inline file's bytes. */
export function planDigest(spec: ImageSpec, plans: readonly (readonly PlanEntry[])[]): string {
  return sha256(
    JSON.stringify({
      format: 1,
      repository: spec.repository,
      tag: spec.tag,
      run: spec.run,
      layers: spec.layers.map((l, i) => ({
        name: l.name,
        entries: plans[i]!.map((e) => (e.type === "file" ? { ...e, data: sha256(e.data) } : e)),
      })),
    }),
  );
}

/** Reads the plan's host files: the layer's tar entries. */
async function materialize(plan: readonly PlanEntry[]): Promise<TarEntry[]> {
  return Promise.all(
    plan.map(async (e): Promise<TarEntry> => {
      if (e.type !== "hostFile") return e;
      const data = await readFile(e.hostPath);
      if (data.length !== e.size) throw new Error(`${e.hostPath} changed while the image was built`);
      return { type: "file", path: e.path, mode: e.mode, data };
    }),
  );
}

async function writeChunks(file: string, chunks: readonly Uint8Array[]): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await open(tmp, "w", 0o644);
  try {
    for (let i = 0; i < chunks.length; i += 512) await fh.writev(chunks.slice(i, i + 512));
  } finally {
    await fh.close();
  }
  renameSync(tmp, file);
}

export interface BuildOutcome {
  name: ImageName;
  state: "built" | "fresh" | "skipped";
  /** Why it was skipped. */
  reason?: string;
  image?: IndexedImage;
  ms: number;
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/**
 * Builds every image of `specs` that is stale, in order, recording each in images.json as it is done.
 * Layers equal by spec are built once (the node runtime the node images share).
 */
export async function buildImages(ctx: BuildContext, specs: readonly ImageSpec[]): Promise<BuildOutcome[]> {
  mkdirSync(ctx.outDir, { recursive: true });
  const index = readImagesIndex(ctx.outDir);
  const layers = new Map<string, Promise<Layer>>();
  const outcomes: BuildOutcome[] = [];
  for (const spec of specs) {
    const t0 = performance.now();
    const ms = () => Math.round(performance.now() - t0);
    const missing = missingInput(spec, ctx.root);
    if (missing !== null) {
      ctx.log(`${spec.name.padEnd(24)} skipped: ${missing}`);
      outcomes.push({ name: spec.name, state: "skipped", reason: missing, ms: ms() });
      continue;
    }
    const plans = await Promise.all(spec.layers.map((l) => planLayer(ctx, l)));
    const inputs = planDigest(spec, plans);
    const prev = index.images[spec.name];
    const archive = `${spec.name}.tar`;
    if (
      prev?.inputs === inputs &&
      prev.archive === archive &&
      sizeOf(join(ctx.outDir, archive)) === prev.size
    ) {
      ctx.log(`${spec.name.padEnd(24)} fresh   ${prev.ref} (${mib(prev.size)}) in ${ms()} ms`);
      outcomes.push({ name: spec.name, state: "fresh", image: prev, ms: ms() });
      continue;
    }
    const built = await Promise.all(
      spec.layers.map((l, i) => {
        const key = JSON.stringify(l);
        let p = layers.get(key);
        if (!p) {
          p = materialize(plans[i]!).then((entries) => makeLayer(l.name, entries));
          layers.set(key, p);
        }
        return p;
      }),
    );
    const ref = imageRef(
      spec,
      imageTag(
        spec.tag,
        built.map((l) => l.digest),
      ),
    );
    const a = imageArchive(ref, spec.run, built);
    await writeChunks(join(ctx.outDir, archive), a.chunks);
    const image: IndexedImage = {
      ref,
      archive,
      digest: a.manifestDigest,
      size: a.size,
      layers: a.layers,
      inputs,
    };
    index.images[spec.name] = image;
    writeAtomic(join(ctx.outDir, INDEX_FILE), JSON.stringify(index, null, 1) + "\n");
    ctx.log(
      `${spec.name.padEnd(24)} built   ${ref} (${mib(a.size)}, ${built.length} layer(s)) in ${ms()} ms`,
    );
    outcomes.push({ name: spec.name, state: "built", image, ms: ms() });
  }
  return outcomes;
}

function sizeOf(file: string): number | null {
  try {
    return statSync(file).size;
  } catch {
    return null;
  }
}
