// Verification of a running lab, with packets: the checks `pulumi up` runs and `verify` prints.
// Every check says what was expected and what was seen; nothing sleeps, everything retries to a deadline.
// The checks are the registry's (checks/index.ts), run in its order; this module assembles the report.
import type { Mode } from "../modes.ts";
import { MODE_SPECS } from "../modes.ts";
import type { LabPlan } from "../lab/topology.ts";
import { inNetns, tryRun } from "../effects/exec.ts";
import { netnsExists } from "../effects/netns.ts";
import { vmOfNetns } from "../effects/vm-netns.ts";
import type { BgpSession } from "./bird.ts";
import { expectHost } from "./calico-rules.ts";
import { checkContext, type Capture, type VerifyOptions } from "./checks/context.ts";
import { CHECKS, type Check } from "./checks/index.ts";
import { timed } from "../effects/timings.ts";
import { deadDaemons } from "./daemon-checks.ts";
import { missingRoutes } from "./host-checks.ts";
import { normalizeRoutes, type RunningPod } from "./expectations.ts";
import { ringOffsets, type PodPairMode } from "./pod-sample.ts";
import { readDatastore } from "./snapshot.ts";

export type { Category, Check } from "./checks/index.ts";
export type { VerifyOptions } from "./checks/context.ts";

export interface LabReport {
  stack: string;
  mode: Mode;
  ok: boolean;
  checks: Check[];
  capture?: Capture;
  /** How the pairs were sampled (big labs); absent when every pair was checked. */
  sampling?: string;
  /** Every capture taken, when more than one (routed underlay: inside a subnet and across the router). */
  captures?: Capture[];
  bgp: Record<string, BgpSession[]>;
  routes: Record<string, string[]>;
  /** The routes each host had to have (from the datastore), kept so drift can be found later. */
  expectedRoutes: Record<string, string[]>;
  verifiedAt: string;
  durationMs: number;
}

/** How a big lab's pairs were sampled, for the report; undefined when every pair is checked. */
function samplingNote(hostCount: number, pairMode: PodPairMode): string | undefined {
  if (pairMode === "all") return undefined;
  return (
    `${hostCount} hosts: pairs sampled around the ring of hosts at distances ` +
    `${ringOffsets(hostCount).join(", ")} (each host reaches those hosts and their pods), plus ` +
    `every pod to the next pod on its node and every host to its own pods`
  );
}

export async function verifyLab(plan: LabPlan, pods: RunningPod[], opts: VerifyOptions): Promise<LabReport> {
  const started = Date.now();
  const ctx = checkContext(plan, pods, opts);
  const checks: Check[] = [];
  for (const [i, c] of CHECKS.entries())
    checks.push(
      ...(await timed<Check[]>("verify", "run", Object.keys(c.categories).join("+") || String(i), () =>
        c.run(ctx),
      )),
    );
  const { captures, bgp, routes, expectedRoutes } = ctx.findings;
  const capture = captures[0];
  const sampling = samplingNote(plan.hosts.length, ctx.pairMode);
  return {
    stack: plan.stack,
    mode: plan.mode,
    ok: checks.every((c) => c.ok),
    checks,
    ...(capture ? { capture } : {}),
    ...(captures.length > 1 ? { captures } : {}),
    ...(sampling ? { sampling } : {}),
    bgp,
    routes,
    expectedRoutes,
    verifiedAt: new Date().toISOString(),
    durationMs: Date.now() - started,
  };
}

export function formatLabFailures(report: LabReport): string {
  const failed = report.checks.filter((c) => !c.ok);
  const lines = [
    `verification of "${report.stack}" failed: ${failed.length} of ${report.checks.length} checks did not pass`,
  ];
  for (const c of failed)
    lines.push(`  - [${c.category}] ${c.name}\n    expected: ${c.expected}\n    seen:     ${c.seen}`);
  return lines.join("\n");
}

/** The daemons that are not alive and ready (etcd not answering among them), each as a sentence. */
export async function deadDaemonsOf(
  plan: LabPlan,
  dirs: { runDir: string; hostRunDir: (host: string) => string },
): Promise<string[]> {
  const datastore = await readDatastore(plan.etcd.clientNetns, plan.etcd.endpoint);
  const facts = datastore.ok ? datastore.facts : undefined;
  const birdOn = (name: string) => {
    try {
      return facts ? expectHost(facts, name, "eth0").bird : MODE_SPECS[plan.mode].runsBgp;
    } catch {
      return MODE_SPECS[plan.mode].runsBgp;
    }
  };
  return deadDaemons(plan, datastore, { ...dirs, birdOn });
}

/**
 * Drift a refresh or a diff can see without sending a packet: a daemon that is not alive and ready (etcd
 * not answering among them), pod namespaces gone, or routes the lab had that are missing now. Empty when
 * the lab still looks as verified.
 */
export async function findDrift(
  plan: LabPlan,
  expectedRoutes: Record<string, string[]>,
  dirs: { runDir: string; hostRunDir: (host: string) => string },
): Promise<string[]> {
  const drift = await deadDaemonsOf(plan, dirs);
  const local = new Set(
    (await tryRun(["ip", "netns", "list"])).stdout.split("\n").map((l) => l.split(" ")[0]),
  );
  // A VM host's namespaces are in its VM: asked there.
  const exists = async (ns: string) => (vmOfNetns(ns) ? netnsExists(ns) : local.has(ns));
  for (const p of plan.pods)
    if (!(await exists(p.netns))) drift.push(`pod ${p.name}: namespace ${p.netns} is gone`);
  for (const h of plan.hosts) {
    if (!(await exists(h.netns))) {
      drift.push(`host ${h.name}: namespace ${h.netns} is gone`);
      continue;
    }
    const got = normalizeRoutes((await tryRun(inNetns(h.netns, ["ip", "route", "show"]))).stdout);
    for (const r of missingRoutes(expectedRoutes[h.name] ?? [], got))
      drift.push(`host ${h.name}: route missing: ${r}`);
  }
  return drift;
}
