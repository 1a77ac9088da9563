// One problem type for everything the lab refuses (stack config, manifests, variants): it names the field,
// the value seen and the fix. Readers collect all of them; `formatProblems` renders the list.

export interface Problem {
  /** What the user wrote: a stack key (`calico-lab:hosts[1].name`), an env entry, a ConfigMap key. */
  field: string;
  /** The value as the user wrote it (already rendered to text, see `shown`). */
  value: string;
  /** What is wrong. */
  message: string;
  /** What to do instead. */
  fix: string;
}

/**
 * How a list of problems opens. `refusal`: a stack refused before anything is created ("… has 2
 * configuration problems; nothing was created:"), where zero problems is a caller's bug. `list`: a manifest
 * or variant checked on its own ("…: 2 problems").
 */
export type ProblemStyle = "refusal" | "list";

/** The text a user reads: a heading, then two lines per problem (field = value: message, then the fix). */
export function formatProblems(
  subject: string,
  problems: readonly Problem[],
  style: ProblemStyle = "refusal",
): string {
  const n = problems.length;
  if (style === "refusal" && n === 0)
    throw new Error(`formatProblems: ${subject} was refused with no problem to name (a validation bug)`);
  const heading =
    style === "refusal"
      ? `${subject} has ${n} configuration problem${n === 1 ? "" : "s"}; nothing was created:`
      : `${subject}: ${n} problem${n === 1 ? "" : "s"}`;
  const lines = [heading];
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

/** Thrown with every problem found, never just the first. */
export class ProblemError extends Error {
  constructor(
    readonly subject: string,
    readonly problems: readonly Problem[],
    style: ProblemStyle = "refusal",
  ) {
    super(formatProblems(subject, problems, style));
    this.name = "ProblemError";
  }
}

/** A problem with the value as written (rendered by `shown`). */
export function problem(field: string, value: unknown, message: string, fix: string): Problem {
  return { field, value: shown(value), message, fix };
}

/** Renders a value for a message: strings quoted, everything else as JSON, absent as "(unset)". */
export function shown(value: unknown): string {
  if (value === undefined) return "(unset)";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return value.toString();
  return JSON.stringify(value) ?? String(value);
}
