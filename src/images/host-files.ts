// Reading this machine's files into layer entries: a file at its own path with every symlink on the way
// (so /lib/x86_64-linux-gnu/libz.so.1 arrives as lib → usr/lib, libz.so.1 → libz.so.1.2.13 and the file),
// a folder recursively, and the shared libraries ldd names. File contents are read only when a layer is
// written: a plan records each file's size and mtime, which is what decides whether an image is fresh.
import { lstat, readdir, readlink, stat } from "node:fs/promises";
import { isAbsolute, join, posix } from "node:path";
import { tryRun } from "../effects/exec.ts";

/** A layer entry whose content is still on this machine. */
export type PlanEntry =
  | { type: "dir"; path: string; mode?: number }
  | { type: "symlink"; path: string; target: string }
  | { type: "file"; path: string; mode?: number; data: string | Uint8Array }
  | { type: "hostFile"; path: string; mode: number; hostPath: string; size: number; mtimeMs: number };

/** The shared objects in ldd's output (one file or several, each under a "name:" line), loader included. */
export function parseLdd(output: string): string[] {
  const found: string[] = [];
  const missing: string[] = [];
  for (const line of output.split("\n")) {
    if (!line.startsWith("\t")) continue;
    const t = line.trim();
    const arrow = /^(\S+) => (\S+)(?: \(0x[0-9a-f]+\))?$/.exec(t);
    if (arrow) {
      if (arrow[2]!.startsWith("/")) found.push(arrow[2]!);
      continue;
    }
    if (/ => not found$/.test(t)) {
      missing.push(t.split(" ")[0]!);
      continue;
    }
    const loader = /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(t);
    if (loader) found.push(loader[1]!);
  }
  if (missing.length > 0) throw new Error(`ldd: libraries not found: ${[...new Set(missing)].join(", ")}`);
  return [...new Set(found)].sort();
}

/** The libraries of these files (none for static ones). */
export async function sharedLibraries(files: readonly string[]): Promise<string[]> {
  if (files.length === 0) return [];
  const r = await tryRun(["ldd", ...files]);
  // ldd exits 1 when one of them is not dynamic (static Go programs, busybox); the others are still listed.
  if (r.exitCode !== 0 && !/not a dynamic executable/.test(r.stdout + r.stderr))
    throw new Error(`ldd ${files.join(" ")} failed: ${r.stderr.trim()}`);
  return parseLdd(r.stdout);
}

const MAX_LINKS = 40;

/** Entries for a host file at its own path: each symlink met on the way, then the file itself. */
export async function hostFileEntries(path: string): Promise<PlanEntry[]> {
  if (!isAbsolute(path)) throw new Error(`not an absolute path: ${path}`);
  const out: PlanEntry[] = [];
  let rest = posix.normalize(path).split("/").filter(Boolean);
  let done = "";
  for (let links = 0; rest.length > 0;) {
    const next = `${done}/${rest[0]}`;
    const st = await lstat(next);
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw new Error(`${path}: too many symlinks`);
      const target = await readlink(next);
      out.push({ type: "symlink", path: next, target });
      const resolved = isAbsolute(target) ? target : join(done || "/", target);
      rest = [...posix.normalize(resolved).split("/").filter(Boolean), ...rest.slice(1)];
      done = "";
      continue;
    }
    done = next;
    rest = rest.slice(1);
    if (rest.length === 0) {
      if (!st.isFile()) throw new Error(`${path}: not a regular file (${next})`);
      out.push({
        type: "hostFile",
        path: next,
        mode: st.mode & 0o7777,
        hostPath: next,
        size: st.size,
        mtimeMs: st.mtimeMs,
      });
    } else if (!st.isDirectory()) throw new Error(`${path}: ${next} is not a directory`);
  }
  return out;
}

/** A host file's content placed at another path (symlinks followed). */
export async function hostFileAt(from: string, to: string, mode?: number): Promise<PlanEntry> {
  const st = await stat(from);
  if (!st.isFile()) throw new Error(`${from}: not a regular file`);
  return {
    type: "hostFile",
    path: to,
    mode: mode ?? st.mode & 0o7777,
    hostPath: from,
    size: st.size,
    mtimeMs: st.mtimeMs,
  };
}

/** A host folder, recursively, at its own path: folders, files and symlinks as they are. */
export async function hostTreeEntries(dir: string): Promise<PlanEntry[]> {
  const out: PlanEntry[] = [];
  // The folder itself may sit below symlinks (/lib/…): resolve its path as a file's would be.
  const st = await stat(dir);
  if (!st.isDirectory()) throw new Error(`${dir}: not a directory`);
  const walk = async (d: string): Promise<void> => {
    const s = await lstat(d);
    out.push({ type: "dir", path: d, mode: s.mode & 0o7777 });
    for (const name of (await readdir(d)).sort()) {
      const p = join(d, name);
      const e = await lstat(p);
      if (e.isDirectory()) await walk(p);
      else if (e.isSymbolicLink()) out.push({ type: "symlink", path: p, target: await readlink(p) });
      else if (e.isFile())
        out.push({
          type: "hostFile",
          path: p,
          mode: e.mode & 0o7777,
          hostPath: p,
          size: e.size,
          mtimeMs: e.mtimeMs,
        });
    }
  };
  await walk(dir);
  return out;
}

/** The regular host files among entries (what ldd should look at). */
export const hostFilesOf = (entries: readonly PlanEntry[]) =>
  entries.flatMap((e) => (e.type === "hostFile" ? [e.hostPath] : []));
