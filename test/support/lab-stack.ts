// A lab stack of the fault bench or an integration test, through the Automation API: created under its own
// name (config copied from a stack file, or set), brought up, re-read, and removed with everything it made,
// on failure too.
import assert from "node:assert/strict";
import { copyFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before } from "node:test";
import { LocalWorkspace, type OutputMap, type Stack } from "@pulumi/pulumi/automation/index.js";
import { labEnv, REPO_ROOT } from "./pulumi-env.ts";
import { removeNetnsWithPrefix } from "./netns-scope.ts";
import { labFromOutputs, type Lab } from "./faults-lab.ts";

export interface UpSummary {
  ok: boolean;
  /** "1 created, 28 same" or the error's last lines. */
  text: string;
  durationMs: number;
  lab?: Lab;
}

/** A resource as the stack's exported state holds it. */
export interface StateResource {
  urn: string;
  id?: string;
  type: string;
  outputs?: Record<string, unknown>;
}

export function plainOutputs(o: OutputMap): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.value]));
}

function changesText(changes: Record<string, number> | undefined): string {
  return Object.entries(changes ?? {})
    .map(([k, n]) => `${n} ${k}`)
    .join(", ");
}

/**
 * What a failed `up` said: its Diagnostics (the engine prints them between the resource lines and the
 * outputs' diff), or, when it printed none, its last lines.
 */
function lastLines(e: unknown, n = 6): string {
  const msg = e instanceof Error ? e.message : String(e);
  const lines = msg
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !/^at /.test(l));
  const from = lines.indexOf("Diagnostics:");
  if (from >= 0) {
    const to = lines.findIndex((l, i) => i > from && /^(Outputs|Resources):/.test(l));
    return lines.slice(from + 1, to < 0 ? undefined : to).join(" | ");
  }
  return lines.slice(-n).join(" | ");
}

export class LabStack {
  private constructor(
    readonly name: string,
    readonly stack: Stack,
    private readonly createdConfigFile: boolean,
  ) {}

  /**
   * The stack `name`: its config copied from stacks/Pulumi.<copyFrom>.yaml (salt included, as scripts/ci
   * does), or with `config` set. An existing stack of that name is reused as it is.
   */
  static async open(
    name: string,
    o: { copyFrom?: string; config?: Record<string, string> } = {},
  ): Promise<LabStack> {
    const env = labEnv();
    Object.assign(process.env, env);
    let created = false;
    if (o.copyFrom) {
      await copyFile(
        join(REPO_ROOT, "stacks", `Pulumi.${o.copyFrom}.yaml`),
        join(REPO_ROOT, "stacks", `Pulumi.${name}.yaml`),
      );
      created = true;
    }
    const stack = await LocalWorkspace.createOrSelectStack(
      { stackName: name, workDir: REPO_ROOT },
      { envVars: env },
    );
    if (o.config) {
      created = true;
      await stack.setAllConfig(
        Object.fromEntries(Object.entries(o.config).map(([k, v]) => [k, { value: v }])),
      );
    }
    return new LabStack(name, stack, created);
  }

  /** `pulumi up` (with `--refresh` if asked); never throws: a failed up is a summary saying so. */
  async up(refresh = false): Promise<UpSummary> {
    const t0 = Date.now();
    try {
      const res = await this.stack.up({ onOutput: () => undefined, ...(refresh ? { refresh: true } : {}) });
      return {
        ok: res.summary.result === "succeeded",
        text: changesText(res.summary.resourceChanges),
        durationMs: Date.now() - t0,
        lab: labFromOutputs(this.name, plainOutputs(res.outputs)),
      };
    } catch (e) {
      return { ok: false, text: `up failed: ${lastLines(e)}`, durationMs: Date.now() - t0 };
    }
  }

  /** The resources of one kind (`Pod`, `UnderlayPort`, …) in the stack's state. */
  async resources(kind: string): Promise<StateResource[]> {
    const state = await this.stack.exportStack();
    const all = (state.deployment as { resources?: StateResource[] }).resources ?? [];
    return all.filter((r) => r.type === `pulumi-nodejs:dynamic/calico-lab:${kind}`);
  }

  /** The running lab from the stack's outputs. */
  async lab(): Promise<Lab> {
    return labFromOutputs(this.name, plainOutputs(await this.stack.outputs()));
  }

  /**
   * Cancels an update still running (a test that timed out), destroys the lab, removes the stack and its
   * file, and whatever namespaces of it are left.
   */
  async remove(): Promise<void> {
    try {
      await this.stack.cancel().catch(() => undefined);
      await this.stack.destroy({ onOutput: () => undefined });
    } finally {
      await this.stack.workspace.removeStack(this.name, { force: true }).catch(() => undefined);
      if (this.createdConfigFile)
        await rm(join(REPO_ROOT, "stacks", `Pulumi.${this.name}.yaml`), { force: true });
      await removeNetnsWithPrefix(this.name);
      await rm(join(REPO_ROOT, ".lab", this.name), { recursive: true, force: true });
    }
  }
}

/**
 * A describe()'s own lab stack, `config` set: opened and brought up (the up must succeed) before its
 * tests, handed to `ready`, and removed with everything it made after them, whatever they did.
 */
export function labStackSuite(
  name: string,
  config: Record<string, string>,
  ready: (s: LabStack) => void,
): void {
  let labStack: LabStack | undefined;
  before(async () => {
    labStack = await LabStack.open(name, { config });
    ready(labStack);
    const up = await labStack.up();
    assert.ok(up.ok, up.text);
  });
  after(async () => {
    await labStack?.remove();
  });
}
