import { join } from "node:path";
import { planFromState, type LabPlan } from "../topology.ts";
import type { RunningPod } from "../../verify/expectations.ts";
import { deadDaemonsOf, findDrift, formatLabFailures, verifyLab, type LabReport } from "../../verify/lab.ts";
import { writeReports } from "../../verify/report.ts";
import type { Handler } from "./handler.ts";
import { scaledMs } from "../timeouts.ts";

export interface VerificationInputs {
  plan: LabPlan;
  pods: RunningPod[];
  runDir: string;
  /** A kubeadm lab's: the calico-node image the lab built (every calico-node pod must run it). */
  cluster?: { nodeImage: string };
  deadlineMs: number;
  checksVersion: string;
}

export interface VerificationOutputs extends VerificationInputs {
  passed: number;
  failed: number;
  /** Checks this machine cannot run (crosssubnet without ipip); each line says why. */
  skipped: number;
  checks: string[];
  encapsulation: string;
  reportMarkdown: string;
  reportHtml: string;
  verifiedAt: string;
  expectedRoutes: Record<string, string[]>;
  /** Set by refresh when the lab no longer looks as verified; the next up verifies again. */
  drift?: string[];
}

export function checkLines(report: LabReport): string[] {
  return report.checks.map(
    (c) =>
      `${c.skipped ? "skip" : c.ok ? "ok  " : "FAIL"} [${c.category}]${c.crossNode ? " (cross-node)" : ""} ${c.name}: ${c.seen}`,
  );
}

async function verify(inputs: VerificationInputs): Promise<VerificationOutputs> {
  const report = await verifyLab(inputs.plan, inputs.pods, {
    deadlineMs: scaledMs(inputs.deadlineMs),
    runDir: inputs.runDir,
    hostRunDir: (h) => join(inputs.runDir, h),
    ...(inputs.cluster ? { cluster: inputs.cluster } : {}),
  });
  const files = await writeReports(inputs.runDir, inputs.plan, inputs.pods, report);
  if (!report.ok) throw new Error(`${formatLabFailures(report)}\n  report: ${files.markdown}`);
  return {
    ...inputs,
    passed: report.checks.filter((c) => !c.skipped).length,
    failed: 0,
    skipped: report.checks.filter((c) => c.skipped).length,
    checks: checkLines(report),
    // Routed underlay: the capture inside a subnet, then the one across the router.
    encapsulation:
      (report.captures ?? (report.capture ? [report.capture] : []))
        .map((c) => c.packet?.kind ?? "none")
        .join(", ") || "none",
    reportMarkdown: files.markdown,
    reportHtml: files.html,
    verifiedAt: report.verifiedAt,
    expectedRoutes: report.expectedRoutes,
  };
}

const dirsOf = (i: Pick<VerificationInputs, "runDir">) => ({
  runDir: i.runDir,
  hostRunDir: (h: string) => join(i.runDir, h),
});

/** Verification as a resource: it runs when the lab is created or changes, and fails the update if a check fails. */
export const verificationHandler: Handler<VerificationInputs, VerificationOutputs> = {
  replaceOn: [],
  async create(inputs) {
    return { id: `verify-${inputs.plan.stack}`, outs: await verify(inputs) };
  },
  async read(_id, props) {
    const { drift: _old, ...rest } = props;
    const drift = await findDrift(planFromState(props.plan), props.expectedRoutes ?? {}, dirsOf(props));
    return drift.length > 0 ? { ...rest, drift } : rest;
  },
  // A dead daemon (or an etcd that does not answer) makes the next plain `up` verify again, and fail.
  async stale(props) {
    return deadDaemonsOf(planFromState(props.plan), dirsOf(props));
  },
  async update(_id, _olds, news) {
    return verify(news);
  },
  async delete(_id, props) {
    const { rm } = await import("node:fs/promises");
    await rm(props.reportMarkdown, { force: true });
    await rm(props.reportHtml, { force: true });
  },
};
