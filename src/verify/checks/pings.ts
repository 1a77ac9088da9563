// Pings as checks, for the pod-to-pod and node-to-pod checks: each one skipped where its hosts need
// IP-in-IP this kernel lacks.
import { inParallel, ping, pingSeen } from "../ping.ts";
import type { CheckContext } from "./context.ts";
import { check, skippedCheck, type CheckResult } from "./result.ts";
import { defineCheck, type CategorySpec, type CheckSpec } from "./spec.ts";

/** One ping the verification makes: from a namespace on `fromHost` to an address on `toHost`. */
export interface PingJob {
  name: string;
  netns: string;
  ip: string;
  fromHost: string;
  toHost: string;
}

async function pingChecks<C extends string>(
  ctx: CheckContext,
  category: C,
  jobs: readonly PingJob[],
): Promise<CheckResult<C>[]> {
  const { skip, blocked } = await ctx.ipip();
  const results = await inParallel(jobs, 8, (j) =>
    blocked(j.fromHost, j.toHost) ? Promise.resolve(undefined) : ping(j.netns, j.ip, ctx.deadlineMs),
  );
  return jobs.map((j, i) => {
    const r = results[i];
    const extra = { crossNode: j.fromHost !== j.toHost };
    if (!r) return skippedCheck(category, j.name, "an ICMP echo reply", skip!, extra);
    return check(category, j.name, r.ok, "an ICMP echo reply", pingSeen(r), extra);
  });
}

/** A check that pings `jobs(ctx)`, eight at a time, each to the deadline. */
export function pingCheck<C extends string>(
  category: C,
  spec: CategorySpec,
  jobs: (ctx: CheckContext) => PingJob[],
): CheckSpec<C> {
  const categories = { [category]: spec } as { readonly [K in C]: CategorySpec };
  return defineCheck({ categories, run: (ctx) => pingChecks(ctx, category, jobs(ctx)) });
}
