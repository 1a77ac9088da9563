// A manifest problem names the field, the value seen and the fix. Validation collects all of them.

export interface ManifestProblem {
  /** The env entry, ConfigMap key or variant field, e.g. `CALICO_IPV4POOL_CIDR`. */
  field: string;
  /** The value as seen, already rendered to text (see `shown`). */
  value: string;
  /** What is wrong. */
  message: string;
  /** What to do instead. */
  fix: string;
}

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
    lines.push(`  - ${p.field} = ${p.value}: ${p.message}`);
    lines.push(`    fix: ${p.fix}`);
  }
  return lines.join("\n");
}

/** Renders a value for a message: strings quoted, everything else as JSON, absent as "(unset)". */
export function shown(value: unknown): string {
  if (value === undefined) return "(unset)";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return value.toString();
  return JSON.stringify(value) ?? String(value);
}

/** A note is information, not an error: e.g. "this env only seeds the default pool". */
export interface ManifestNote {
  field: string;
  message: string;
}
