// Host and pod names: each becomes a namespace (and a host's an interface) name, so each is checked for
// syntax, for a name already taken, and for a second use in its list.
import { problem, type Problem } from "../problems.ts";
import { key } from "./model.ts";

export interface NameRule {
  /** "host" or "pod": names the list (calico-lab:hosts) and the messages. */
  kind: "host" | "pod";
  pattern: RegExp;
  /** What the name becomes, for the message: "namespace and interface names". */
  becomes: string;
  maxLength: number;
  /** Why a well-formed name cannot be used (the lab's own, or another kind's), with the fix. */
  taken(name: string): { message: string; fix: string } | undefined;
}

/**
 * The entry's name, or undefined when it is not one at all; a taken or repeated name is reported and
 * still returned, so the entry's other fields are checked too. `seen` maps names to earlier indexes.
 */
export function checkName(
  field: string,
  name: unknown,
  rule: NameRule,
  seen: ReadonlyMap<string, number>,
  problems: Problem[],
): string | undefined {
  const f = `${field}.name`;
  if (typeof name !== "string" || !rule.pattern.test(name)) {
    problems.push(
      problem(
        f,
        name,
        `${rule.kind} names become ${rule.becomes} and must match ${rule.pattern.source}`,
        `use lower-case letters, digits and dashes, starting with a letter, at most ${rule.maxLength} characters`,
      ),
    );
    return undefined;
  }
  const taken = rule.taken(name);
  if (taken) problems.push(problem(f, name, taken.message, taken.fix));
  const dup = seen.get(name);
  if (dup !== undefined)
    problems.push(
      problem(
        f,
        name,
        `duplicate ${rule.kind} name (also ${key(`${rule.kind}s`)}[${dup}])`,
        `give every ${rule.kind} its own name`,
      ),
    );
  return name;
}
