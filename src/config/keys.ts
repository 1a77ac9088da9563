// Stage 1 of the reader: the stack's name and keys. A key the lab does not read is a typo it would ignore.
import { problem, shown, type Problem } from "../problems.ts";
import { CONFIG_NAMESPACE, STACK_NAME, key, type Raw } from "./model.ts";

/** Keys of the lab's topology and of its Calico variant. */
export const KNOWN_KEYS = [
  "mode",
  "backend",
  "kubernetes",
  "underlayCidr",
  "routedCidr",
  "hostOffset",
  "mtu",
  "podCidr",
  "serviceCidr",
  "hosts",
  "blockSize",
  "asNumber",
  "natOutgoing",
  "autodetect",
  "pods",
  "routeReflectors",
  "outside",
] as const;

/** Config namespaces Pulumi itself reads (pulumi:template, pulumi:tags, …): never the lab's typos. */
const PULUMI_NAMESPACES = ["pulumi"] as const;

/** The candidate within edit distance 2 of `word` (case-insensitive), nearest first. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const dist = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i]![j] = Math.min(
          d[i - 1]![j]! + 1,
          d[i]![j - 1]! + 1,
          d[i - 1]![j - 1]! + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1),
        );
    return d[a.length]![b.length]!;
  };
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const dd = dist(word, c);
    if (dd < bestD) [best, bestD] = [c, dd];
  }
  return best;
}

/** Problems for the keys of a nested object that are not `known`, each with its nearest known key. */
export function unknownKeys(field: string, obj: Raw, known: readonly string[], problems: Problem[]): void {
  for (const [k, v] of Object.entries(obj)) {
    if (known.includes(k)) continue;
    const guess = closest(k, known);
    problems.push(
      problem(
        `${field}.${k}`,
        v,
        "unknown key: the lab would ignore it",
        guess ? `did you mean ${field}.${guess}?` : `remove it; known keys here: ${known.join(", ")}`,
      ),
    );
  }
}

/** A stack key outside the lab's namespace: `calicolab:mode` is read by nothing, so it is refused. */
function foreignKeyProblem(full: string, value: unknown): Problem | undefined {
  const colon = full.indexOf(":");
  const ns = colon < 0 ? "" : full.slice(0, colon);
  if (ns === CONFIG_NAMESPACE || (PULUMI_NAMESPACES as readonly string[]).includes(ns)) return undefined;
  const rest = full.slice(colon + 1);
  const guess = (KNOWN_KEYS as readonly string[]).includes(rest) ? rest : closest(rest, KNOWN_KEYS);
  return {
    field: full,
    value: shown(value),
    message: `namespace "${ns}" is not the lab's: only ${CONFIG_NAMESPACE}:* keys are read, so this one would be ignored`,
    fix: guess
      ? `did you mean ${key(guess)}? (pulumi config rm ${full}, then pulumi config set ${key(guess)} <value>)`
      : `remove it (pulumi config rm ${full}); the lab's keys are ${CONFIG_NAMESPACE}:<key>`,
  };
}

/**
 * The stack's name and every key present. `allKeys` are the full keys of the stack (to report unknown
 * `calico-lab:` keys and keys in a namespace that is not the lab's); `values` their values, for messages.
 */
export function checkKeys(
  stack: string,
  raw: Raw,
  allKeys: readonly string[],
  values: Readonly<Record<string, unknown>>,
  problems: Problem[],
): void {
  if (!STACK_NAME.test(stack)) {
    problems.push(
      problem(
        "stack name",
        stack,
        "stack names prefix the lab's network namespaces and must match " + STACK_NAME.source,
        "use lower-case letters, digits and dashes, starting with a letter, at most 24 characters",
      ),
    );
  }
  for (const full of allKeys) {
    const foreign = foreignKeyProblem(full, values[full]);
    if (foreign) problems.push(foreign);
    if (!full.startsWith(`${CONFIG_NAMESPACE}:`)) continue;
    const k = full.slice(CONFIG_NAMESPACE.length + 1);
    if ((KNOWN_KEYS as readonly string[]).includes(k)) continue;
    const guess = closest(k, KNOWN_KEYS);
    problems.push(
      problem(
        full,
        raw[k],
        "unknown configuration key",
        guess
          ? `did you mean ${key(guess)}? (pulumi config rm ${full})`
          : `remove it (pulumi config rm ${full}); known keys: ${KNOWN_KEYS.join(", ")}`,
      ),
    );
  }
}

/** A stack file's `config:` (full keys, parsed values) → the lab's values keyed without namespace, and every key. */
export function labValues(config: Readonly<Raw>): { raw: Raw; keys: string[] } {
  const raw: Raw = {};
  for (const [k, v] of Object.entries(config))
    if (k.startsWith(`${CONFIG_NAMESPACE}:`)) raw[k.slice(CONFIG_NAMESPACE.length + 1)] = v;
  return { raw, keys: Object.keys(config) };
}

/** A config value as Pulumi stores it: JSON (numbers, booleans, lists, objects) or else a plain string. */
export function parsedValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
