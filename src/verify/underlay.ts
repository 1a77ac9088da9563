// Verification v0: every host reaches every other host over the underlay.
import type { LabPlan, PingPair } from "../lab/topology.ts";
import { underlayPingPairs } from "../lab/topology.ts";
import { inParallel, ping, pingSeen } from "./ping.ts";
import { sampledNodePairs } from "./pod-sample.ts";
import type { CheckOutcome } from "./checks/result.ts";

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
      seen: pingSeen(r),
    };
  });
  return { ok: checks.every((c) => c.ok), checks };
}
