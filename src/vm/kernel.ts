// The guest kernel: Debian's standard linux-image-amd64 flavour (the cloud flavour has no 9p), downloaded
// with `apt-get download`, unpacked with `dpkg-deb -x` (never installed on the host), indexed with
// `depmod -b`, cached under .tools/vm/kernel/<package>_<version>/ (git-ignored, never committed).
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runProc as run } from "./proc.ts";

export const DEFAULT_KERNEL_META = "linux-image-amd64";

export interface Kernel {
  /** "<package>_<version>": the cache folder's name, part of the initramfs key. */
  id: string;
  release: string;
  vmlinuz: string;
  /** /lib/modules/<release> of the unpacked package (depmod'ed). */
  modulesDir: string;
}

/** "Depends: linux-image-6.1.0-56-amd64" in `apt-cache depends <meta>` → the real image package. */
export function imagePackageFromDepends(text: string, meta: string): string {
  for (const line of text.split("\n")) {
    const m = /^\s*(?:\|)?Depends:\s*(linux-image-\S+)\s*$/.exec(line);
    if (m?.[1] && m[1] !== meta && !m[1].includes("<")) return m[1];
  }
  throw new Error(`apt-cache depends ${meta}: no linux-image-* dependency found`);
}

/** "Version: 6.1.192-2" of `apt-cache show --no-all-versions`. */
export function versionFromShow(text: string): string {
  const m = /^Version:\s*(\S+)\s*$/m.exec(text);
  if (!m?.[1]) throw new Error("apt-cache show: no Version field");
  return m[1];
}

/** A package's file name part: Debian versions may hold ':' (epochs). */
export function kernelId(pkg: string, version: string): string {
  return `${pkg}_${version.replace(/:/g, "%3a")}`;
}

const STAMP = ".complete";

async function describe(dir: string, id: string): Promise<Kernel> {
  const mods = await readdir(join(dir, "lib", "modules"));
  const release = mods.find((m) => existsSync(join(dir, "boot", `vmlinuz-${m}`)));
  if (!release) throw new Error(`${dir}: no boot/vmlinuz-<release> matching lib/modules/<release>`);
  return {
    id,
    release,
    vmlinuz: join(dir, "boot", `vmlinuz-${release}`),
    modulesDir: join(dir, "lib", "modules", release),
  };
}

/** Cached kernels, newest folder name last. */
export async function cachedKernels(cacheDir: string): Promise<string[]> {
  const root = join(cacheDir, "kernel");
  if (!existsSync(root)) return [];
  const names = (await readdir(root)).filter((n) => existsSync(join(root, n, STAMP)));
  return names.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
}

export interface EnsureKernelOptions {
  cacheDir: string;
  /** The metapackage (default linux-image-amd64) or a linux-image-<release> package. */
  meta?: string;
  /** Ask apt even when a kernel is cached (to pick up a newer one). */
  refresh?: boolean;
  log?: (line: string) => void;
}

/**
 * A usable kernel: the newest cached one (no apt call at all), or else the one apt resolves `meta` to,
 * downloaded and unpacked now.
 */
export async function ensureKernel(opts: EnsureKernelOptions): Promise<Kernel> {
  const meta = opts.meta ?? DEFAULT_KERNEL_META;
  const root = join(opts.cacheDir, "kernel");
  if (!opts.refresh) {
    const cached = (await cachedKernels(opts.cacheDir)).filter(
      (n) => meta === DEFAULT_KERNEL_META || n.startsWith(`${meta}_`),
    );
    const newest = cached.at(-1);
    if (newest) return describe(join(root, newest), newest);
  }
  const pkg = /^linux-image-\d/.test(meta)
    ? meta
    : imagePackageFromDepends(await aptCache(["depends", meta]), meta);
  const version = versionFromShow(await aptCache(["show", "--no-all-versions", pkg]));
  const id = kernelId(pkg, version);
  const dir = join(root, id);
  if (existsSync(join(dir, STAMP))) return describe(dir, id);

  opts.log?.(`vm: downloading ${pkg} ${version} (apt-get download) into ${root}`);
  await mkdir(root, { recursive: true });
  const work = await mkdtemp(join(root, ".download-"));
  try {
    await run(["apt-get", "download", "-q", `${pkg}=${version}`], { cwd: work }).catch((e: Error) => {
      throw new Error(`${e.message}\n(is the apt index there? run: apt-get update)`);
    });
    const debs = (await readdir(work)).filter((f) => f.endsWith(".deb"));
    if (debs.length !== 1 || !debs[0])
      throw new Error(`apt-get download left ${debs.length} .deb files in ${work}`);
    const tree = join(work, "tree");
    await run(["dpkg-deb", "-x", join(work, debs[0]), tree]);
    const k = await describe(tree, id);
    await run(["depmod", "-b", tree, k.release]);
    await writeFile(join(tree, STAMP), `${pkg} ${version}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(tree, dir);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return describe(dir, id);
}

async function aptCache(args: string[]): Promise<string> {
  return run(["apt-cache", ...args]).catch((e: Error) => {
    throw new Error(`${e.message}\n(the kernel comes from Debian's apt index: run apt-get update first)`);
  });
}
