// Verification v0: every host reaches every other host over the underlay.
import type { LabPlan, PingPair } from "../lab/topology.ts";
import { underlayPingPairs } from "../lab/topology.ts";
import { inParallel, ping } from "./ping.ts";
import { sampledNodePairs } from "./pod-sample.ts";

export interface CheckOutcome {
  name: string;
  ok: boolean;
  expected: string;
  seen: string;
  /** Why the check could not run here (it counts as passed, and the report says so). */
  skipped?: string;
}

export interface UnderlayReport {
  ok: boolean;
  checks: CheckOutcome[];
}

export function describePair(p: PingPair): string {
  return `${p.from} -> ${p.to} (${p.address})`;
}

export async function verifyUnderlay(plan: LabPlan, deadlineMs = 5000): Promise<UnderlayReport> {
  // Every ordered pair of hosts, or the ring sample in a big lab (pod-sample.ts).
  const pairs = underlayPingPairs(plan, sampledNodePairs(plan.hosts.length));
  const results = await inParallel(pairs, 8, (p) => ping(p.fromNetns, p.address, deadlineMs));
  const checks = pairs.map((p, i): CheckOutcome => {
    const r = results[i]!;
    return {
      name: `underlay ping ${describePair(p)}`,
      ok: r.ok,
      expected: "an ICMP echo reply",
      seen: r.ok ? `reply in ${r.rttMs ?? "?"} ms` : `no reply after ${r.attempts} attempts: ${r.seen ?? ""}`,
    };
  });
  return { ok: checks.every((c) => c.ok), checks };
}

/** The text a failed verification fails the update with. */
export function formatFailures(report: UnderlayReport): string {
  const failed = report.checks.filter((c) => !c.ok);
  const lines = [`verification failed: ${failed.length} of ${report.checks.length} checks did not pass`];
  for (const c of failed) lines.push(`  - ${c.name}\n    expected: ${c.expected}\n    seen:     ${c.seen}`);
  return lines.join("\n");
}
