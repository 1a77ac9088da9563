// Reads a running stack from outside `pulumi up`: its config (→ LabConfig → LabPlan, the same pure path the
// program takes) and its outputs (the pods' addresses). The parsing is pure (`stackInfoFrom`); `readStack`
// asks the pulumi CLI (`pulumi config --json`, `pulumi stack output --json`) and checks the lab is there.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { labValues, parsedValue } from "../config/keys.ts";
import { STACK_NAME } from "../config/model.ts";
import { readLabConfig } from "../config/read.ts";
import { netnsExists } from "../effects/netns.ts";
import { tryRun } from "../effects/exec.ts";
import { planLab, type LabPlan } from "../lab/topology.ts";
import { formatProblems } from "../problems.ts";
import type { RunningPod } from "../verify/expectations.ts";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The stack's run folder (.lab/<stack>), as the program names it. */
export function runDirOf(stack: string): string {
  return join(REPO_ROOT, ".lab", stack);
}

/** The stack is missing, destroyed, or its namespaces are gone: says how to bring it up. */
export class StackNotUpError extends Error {
  constructor(
    readonly stackName: string,
    why: string,
  ) {
    super(
      `stack "${stackName}" is not up: ${why}\n  bring it up with: bash scripts/lab-up ${stackName}` +
        `   (or: . scripts/lib/env.sh; pulumi up --stack ${stackName})`,
    );
    this.name = "StackNotUpError";
  }
}

export interface StackOutputs {
  mode?: string;
  switchNamespace?: string;
  hosts?: Record<string, { namespace: string; address: string }>;
  pods?: Record<string, { namespace: string; host: string; ip: string }>;
  verification?: {
    passed: number;
    failed: number;
    skipped?: number;
    encapsulation?: string;
    checks: string[];
  };
  report?: { markdown: string; html: string };
}

export interface StackInfo {
  stack: string;
  plan: LabPlan;
  pods: RunningPod[];
  outputs: StackOutputs;
  runDir: string;
}

type ConfigJson = Record<string, { value?: string; objectValue?: unknown; secret?: boolean }>;

/** `pulumi config --json` → the raw `calico-lab:*` values and every key, as the program reads them. */
export function rawConfig(config: ConfigJson): { raw: Record<string, unknown>; keys: string[] } {
  return labValues(
    Object.fromEntries(
      Object.entries(config).map(([k, v]) => [
        k,
        v.objectValue ?? (typeof v.value === "string" ? parsedValue(v.value) : v.value),
      ]),
    ),
  );
}

/** Pure: the plan from the config, the running pods from the outputs (every planned pod must be there). */
export function stackInfoFrom(stack: string, config: ConfigJson, outputs: StackOutputs): StackInfo {
  const { raw, keys } = rawConfig(config);
  const parsed = readLabConfig(stack, raw, keys);
  if (!parsed.ok)
    throw new Error(
      formatProblems(`stack "${stack}": its configuration does not parse`, parsed.problems, "list"),
    );
  const plan = planLab(parsed.config);
  if (!outputs.pods || !outputs.hosts) throw new StackNotUpError(stack, "it has no outputs (destroyed?)");
  const pods: RunningPod[] = [];
  const missing: string[] = [];
  for (const p of plan.pods) {
    const out = outputs.pods[p.name];
    if (!out?.ip) missing.push(p.name);
    else pods.push({ name: p.name, ip: out.ip, host: p.host, server: p.server });
  }
  if (missing.length > 0)
    throw new StackNotUpError(
      stack,
      `its outputs lack pod(s) ${missing.join(", ")}: the config changed since the last up`,
    );
  return { stack, plan, pods, outputs, runDir: runDirOf(stack) };
}

async function pulumiJson(args: string[], stack: string): Promise<unknown> {
  const r = await tryRun(["pulumi", ...args, "--json", "--stack", stack, "--non-interactive"], {
    timeoutMs: 60_000,
  });
  if (r.exitCode !== 0) {
    const msg = (r.stderr || r.stdout).trim();
    if (/no stack named/i.test(msg)) {
      const files = readdirSync(join(REPO_ROOT, "stacks"))
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((n): n is string => Boolean(n));
      throw new StackNotUpError(
        stack,
        files.includes(stack) ? "no such stack yet" : `no such stack (stack files: ${files.join(", ")})`,
      );
    }
    throw new Error(`pulumi ${args.join(" ")} --stack ${stack} failed: ${msg}`);
  }
  return JSON.parse(r.stdout || "{}") as unknown;
}

/** Reads a running stack; throws StackNotUpError when it is not up (no stack, no outputs, namespaces gone). */
export async function readStack(stack: string): Promise<StackInfo> {
  if (!STACK_NAME.test(stack))
    throw new Error(`invalid stack name "${stack}" (must match ${STACK_NAME.source})`);
  const outputs = (await pulumiJson(["stack", "output"], stack)) as StackOutputs;
  if (Object.keys(outputs).length === 0) throw new StackNotUpError(stack, "it has no outputs (destroyed?)");
  const config = (await pulumiJson(["config"], stack)) as ConfigJson;
  const info = stackInfoFrom(stack, config, outputs);
  const gone: string[] = [];
  for (const ns of [info.plan.switchNetns, ...info.plan.hosts.map((h) => h.netns)])
    if (!(await netnsExists(ns))) gone.push(ns);
  if (gone.length > 0)
    throw new StackNotUpError(
      stack,
      `namespace(s) ${gone.join(", ")} are gone (removed by hand or by a reboot); pulumi refresh, then up, rebuilds them`,
    );
  return info;
}
