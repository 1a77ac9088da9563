// The verification's code version: a digest of every source file it runs, found by walking relative imports
// from its entry points. A `Verification` resource runs again when this changes, so editing a check (or
// anything a check imports) re-verifies the lab on the next `up`, and nothing else does.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** The src/ folder this module is in. */
export const SRC_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * What the verification runs, as paths under src/: the resource's handler (it runs verifyLab and the
 * registry, writes the reports and turns the report into outputs); the datastore reader (snapshot.ts,
 * etcdctl) is among what it imports.
 */
export const VERIFICATION_ENTRIES = ["lab/providers/verification-handler.ts"];

/** Relative import specifiers of a TypeScript module (static, dynamic and `export … from`). Pure. */
export function relativeImports(source: string): string[] {
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g;
  for (const m of source.matchAll(re)) out.push(m[1]!);
  return out;
}

/**
 * Every module under `root` that `entries` reach by relative imports (entries included), each with the
 * chain of modules that reached it; paths relative to `root`. Imports leaving `root` are not followed; a
 * specifier that names no file (it can only be in a comment or a string: tsc resolves the real ones) is
 * not either.
 */
export function importGraph(root: string, entries: readonly string[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const todo = entries.map((e) => [e]);
  while (todo.length > 0) {
    const chain = todo.pop()!;
    const file = chain[chain.length - 1]!;
    if (seen.has(file)) continue;
    let source: string;
    try {
      source = readFileSync(join(root, file), "utf8");
    } catch {
      continue;
    }
    seen.set(file, chain);
    for (const spec of relativeImports(source)) {
      const next = relative(root, resolve(root, dirname(file), spec));
      if (!next.startsWith(`..${sep}`)) todo.push([...chain, next]);
    }
  }
  return seen;
}

/** The files the verification consists of, sorted, relative to `root`. */
export function verificationFiles(root = SRC_ROOT, entries = VERIFICATION_ENTRIES): string[] {
  return [...importGraph(root, entries).keys()].sort();
}

/** A digest of those files' paths and contents (16 hex digits), the same wherever the tree is checked out. */
export function checksVersion(root = SRC_ROOT, entries = VERIFICATION_ENTRIES): string {
  const h = createHash("sha256");
  for (const f of verificationFiles(root, entries)) h.update(`${f}\0`).update(readFileSync(join(root, f)));
  return h.digest("hex").slice(0, 16);
}
