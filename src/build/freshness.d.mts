// Types of freshness.mjs (plain JavaScript, so that it runs without tsx).

/** What the meta records of one file. */
export interface InputRecord {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** dist/bin/<name>.meta.json: what the bundle was built from. */
export interface BundleMeta {
  format: 1;
  entry: string;
  /** The project root, relative to the output folder (the pair can move as a whole). */
  root: string;
  /** Hash of the build options and the esbuild version. */
  options: string;
  /** Inputs by path relative to the root. */
  inputs: Record<string, InputRecord>;
  /** The bundle's own size and hash (a hand-edited or half-written bundle is stale too). */
  output: InputRecord;
}

/** Where bundles are built and from which sources. Tests point this at a scratch project. */
export interface BundleSet {
  /** Project root: entry paths and recorded inputs are relative to it. */
  root: string;
  /** Output folder (absolute). */
  outDir: string;
  /** name → entry path relative to root. */
  entries: Readonly<Record<string, string>>;
  /** Names among the entries whose bundle exports the entry's exports instead of running it. */
  libraries?: readonly string[];
}

export declare const REPO_ROOT: string;
export declare const LIBRARIES: {
  readonly provider: "src/lab/providers/dispatch.ts";
  readonly program: "src/program.ts";
};
export type LibraryName = keyof typeof LIBRARIES;
export declare const EXTERNAL: readonly ["esbuild", "@pulumi/pulumi", "tsx"];
export declare const TARGET: "node20";
export declare const LAB_OUT_DIR: string;

export declare function bundlePath(name: string, set: BundleSet): string;
export declare function metaPath(name: string, set: BundleSet): string;
export declare function sha256(data: Buffer | string): string;
export declare function record(file: string): InputRecord;
export declare function unchanged(file: string, rec: InputRecord): boolean;
export declare function esbuildVersion(root: string): string;
export declare function optionsHash(set: BundleSet, name: string): string;
export declare function readMeta(name: string, set: BundleSet): BundleMeta | null;
export declare function staleReason(name: string, set: BundleSet): string | null;
export declare function freshUrl(name: string, set: BundleSet): string | null;
export declare function freshLibraryUrl(name: LibraryName): string | null;
export declare function importLibrary<M = Record<string, unknown>>(
  name: LibraryName,
): Promise<{ module: M; loaded: "fresh" | "rebuilt" }>;
