// The Pulumi program: stack config → validated LabConfig → plan → components → outputs.
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, parseLabConfig } from "./config/lab-config.ts";
import { ConfigError } from "./config/problems.ts";
import { Lab } from "./lab/components.ts";
import { planLab } from "./lab/topology.ts";

/** Raw `calico-lab:*` values (objects parsed from JSON) and every key present. */
export function readStackConfig(): { raw: Record<string, unknown>; keys: string[] } {
  const all = pulumi.runtime.allConfig();
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(all)) {
    if (!k.startsWith(`${CONFIG_NAMESPACE}:`)) continue;
    let value: unknown = v;
    try {
      value = JSON.parse(v);
    } catch {
      /* a plain string */
    }
    raw[k.slice(CONFIG_NAMESPACE.length + 1)] = value;
  }
  return { raw, keys: Object.keys(all) };
}

export async function main() {
  const stack = pulumi.getStack();
  const { raw, keys } = readStackConfig();
  const parsed = parseLabConfig(stack, raw, keys);
  // Rejected at preview, before anything is created, with every problem listed.
  if (!parsed.ok) throw new pulumi.RunError(new ConfigError(`stack "${stack}"`, parsed.problems).message);
  const plan = planLab(parsed.config);
  const lab = new Lab(stack, plan);

  return {
    mode: parsed.config.mode,
    underlay: parsed.config.underlayCidr,
    podCidr: parsed.config.podCidr,
    switchNamespace: plan.switchNetns,
    hosts: Object.fromEntries(plan.hosts.map((h) => [h.name, { namespace: h.netns, address: h.cidr }])),
    verification: {
      passed: lab.verification.passed,
      failed: lab.verification.failed,
      checks: lab.verification.checks.apply((cs) =>
        cs.map((c) => `${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.seen}`),
      ),
    },
  };
}
