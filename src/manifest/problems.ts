// Manifest problems are the lab's one Problem type (src/problems.ts), listed in its "list" style.
import { ProblemError, type Problem } from "../problems.ts";

/** `field` is the env entry, ConfigMap key or variant field. */
export type ManifestProblem = Problem;

/** Thrown with every problem found, never just the first. */
export class ManifestError extends ProblemError {
  constructor(subject: string, problems: readonly ManifestProblem[]) {
    super(subject, problems, "list");
    this.name = "ManifestError";
  }
}

export { shown } from "../problems.ts";

/** A note is information, not an error: e.g. "this env only seeds the default pool". */
export interface ManifestNote {
  field: string;
  message: string;
}
