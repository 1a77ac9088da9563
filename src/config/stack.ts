// A stack's whole configuration checked at once: the lab's topology and the Calico variant, one problem per
// cause, before anything is created.
import { variantFromStackConfig, type StackVariantResult } from "../manifest/stack-config.ts";
import { CONFIG_NAMESPACE, parseLabConfig, type LabConfig } from "./lab-config.ts";
import type { ConfigProblem } from "./problems.ts";

/**
 * Keys whose every check the topology reader makes itself (the variant's reader checks some of the same
 * again, for render-manifest): their problems come from the topology reader only, so one cause is one line.
 */
const TOPOLOGY_KEYS = ["mode", "mtu", "underlayCidr", "serviceCidr", "podCidr", "hosts"].map(
  (k) => `${CONFIG_NAMESPACE}:${k}`,
);

export type StackCheck =
  | { ok: true; config: LabConfig; variant: Extract<StackVariantResult, { ok: true }> }
  | { ok: false; problems: ConfigProblem[] };

/**
 * Both readers of the stack config, their problems merged. `raw` holds the `calico-lab:*` values keyed
 * without namespace; `keys` every key of the stack and `values` their values (for keys in other namespaces).
 */
export function validateStack(
  stack: string,
  raw: Record<string, unknown>,
  keys: readonly string[],
  values: Readonly<Record<string, unknown>> = {},
): StackCheck {
  const lab = parseLabConfig(stack, raw, keys, values);
  const variant = variantFromStackConfig(raw);
  const problems: ConfigProblem[] = lab.ok ? [] : [...lab.problems];
  const dropped: ConfigProblem[] = [];
  if (!variant.ok) {
    const seen = new Set(problems.map((p) => p.field));
    for (const p of variant.problems) {
      if (TOPOLOGY_KEYS.includes(p.field) || seen.has(p.field)) {
        dropped.push(p);
        continue;
      }
      seen.add(p.field);
      problems.push(p);
    }
  }
  // Should the topology reader ever pass what the variant's reader refuses on its keys, the refusal
  // still names its cause.
  if (problems.length === 0 && !variant.ok) problems.push(...dropped);
  if (problems.length > 0) return { ok: false, problems };
  if (!lab.ok || !variant.ok) {
    // Every refusal names its cause; a reader that refused silently is a bug, not a message.
    throw new Error(`validateStack: ${stack} refused with no problem listed`);
  }
  return { ok: true, config: lab.config, variant };
}
