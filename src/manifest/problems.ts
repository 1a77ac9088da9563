// A manifest problem names the field, the value seen and the fix. Validation collects all of them.

import type { ConfigProblem } from "../config/problems.ts";

/** The same shape as a stack config problem; `field` is the env entry, ConfigMap key or variant field. */
export type ManifestProblem = ConfigProblem;

/** Thrown with every problem found, never just the first. */
export class ManifestError extends Error {
  constructor(
    readonly subject: string,
    readonly problems: readonly ManifestProblem[],
  ) {
    super(formatManifestProblems(subject, problems));
    this.name = "ManifestError";
  }
}

export function formatManifestProblems(subject: string, problems: readonly ManifestProblem[]): string {
  const n = problems.length;
  const lines = [`${subject}: ${n} problem${n === 1 ? "" : "s"}`];
  for (const p of problems) {
    lines.push(`  - ${oneLine(p.field)} = ${oneLine(p.value)}: ${oneLine(p.message)}`);
    lines.push(`    fix: ${oneLine(p.fix)}`);
  }
  return lines.join("\n");
}

/** Names and values from the input may hold line breaks: each problem stays two lines. */
function oneLine(s: string): string {
  return s.replace(/[\r\n\t]/g, (c) => JSON.stringify(c).slice(1, -1));
}

export { shown } from "../config/problems.ts";

/** A note is information, not an error: e.g. "this env only seeds the default pool". */
export interface ManifestNote {
  field: string;
  message: string;
}
