// A configuration problem names the field, the value seen and the fix. Validation collects all of them.

export interface ConfigProblem {
  /** The stack config key, e.g. `calico-lab:hosts[1].name`. */
  field: string;
  /** The value as the user wrote it (already rendered to text). */
  value: string;
  /** What is wrong. */
  message: string;
  /** What to do instead. */
  fix: string;
}

export class ConfigError extends Error {
  constructor(
    readonly subject: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(formatProblems(subject, problems));
    this.name = "ConfigError";
  }
}

/** The refusal a user reads. Zero problems is a caller's bug ("0 problems; nothing was created"), never text. */
export function formatProblems(subject: string, problems: readonly ConfigProblem[]): string {
  const n = problems.length;
  if (n === 0)
    throw new Error(`formatProblems: ${subject} was refused with no problem to name (a validation bug)`);
  const lines = [`${subject} has ${n} configuration problem${n === 1 ? "" : "s"}; nothing was created:`];
  for (const p of problems) {
    lines.push(`  - ${p.field} = ${p.value}: ${p.message}`);
    lines.push(`    fix: ${p.fix}`);
  }
  return lines.join("\n");
}

/** Renders a config value for a message: strings quoted, everything else as JSON, absent as "(unset)". */
export function shown(value: unknown): string {
  if (value === undefined) return "(unset)";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return value.toString();
  return JSON.stringify(value) ?? String(value);
}
