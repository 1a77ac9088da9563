// Shared by the manifest tests: input paths and a line diff for "only the intended lines changed".
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { sharedFixture } from "../../support/shared-fixture.ts";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
/** Upstream calico.yaml v3.9.0 from ../shared: tests that read it pass `{ skip: UPSTREAM.skip }` (CI=true throws). */
export const UPSTREAM = sharedFixture(join("calico", "calico-v3.9.0.yaml"));
export const UPSTREAM_V3_9 = UPSTREAM.path;
export const INPUTS_DIR = join(REPO_ROOT, "test", "golden", "manifest", "inputs");

/** node:test's skip option for a test that reads this input: false, or why it is absent here. */
export function inputSkip(name: string): string | false {
  return name === "calico-v3.9.0" ? UPSTREAM.skip : false;
}

export function readInput(name: string): string {
  if (name === "calico-v3.9.0") return readFileSync(UPSTREAM_V3_9, "utf8");
  if (name === "template") return readFileSync(join(REPO_ROOT, "templates", "calico.yaml"), "utf8");
  if (name === "template-etcd") return readFileSync(join(REPO_ROOT, "templates", "calico-etcd.yaml"), "utf8");
  return readFileSync(join(INPUTS_DIR, `${name}.yaml`), "utf8");
}

export interface LineDiff {
  /** [1-based line number in the input, text] */
  removed: [number, string][];
  /** [1-based line number in the output, text] */
  added: [number, string][];
}

/** A minimal line diff (longest common subsequence). */
export function lineDiff(before: string, after: string): LineDiff {
  const a = before.split("\n");
  const b = after.split("\n");
  // Trim the common prefix and suffix, then LCS on the middle.
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf])
    suf++;
  const am = a.slice(pre, a.length - suf);
  const bm = b.slice(pre, b.length - suf);
  const n = am.length;
  const m = bm.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = am[i] === bm[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const removed: [number, string][] = [];
  const added: [number, string][] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && am[i] === bm[j]) {
      i++;
      j++;
    } else if (j < m && (i >= n || lcs[i]![j + 1]! > lcs[i + 1]![j]!)) {
      added.push([pre + j + 1, bm[j]!]);
      j++;
    } else {
      removed.push([pre + i + 1, am[i]!]);
      i++;
    }
  }
  return { removed, added };
}

/** The diff as review-friendly text for golden files. */
export function formatDiff(d: LineDiff): string {
  if (d.removed.length === 0 && d.added.length === 0) return "(no changes)\n";
  const lines = [
    ...d.removed.map(([n, t]) => `-${String(n).padStart(4)} ${t}`),
    ...d.added.map(([n, t]) => `+${String(n).padStart(4)} ${t}`),
  ];
  return lines.join("\n") + "\n";
}

/** Just the trimmed texts, for asserting what changed. */
export function changedTexts(d: LineDiff): { removed: string[]; added: string[] } {
  return { removed: d.removed.map(([, t]) => t.trim()), added: d.added.map(([, t]) => t.trim()) };
}
