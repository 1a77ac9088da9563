// Routes and devices per host, against what Calico's rules derive from the datastore (calico-rules.ts).
// One check for both categories: each host's routes, then its devices, as the report has always listed them.
import type { HostPlan } from "../../lab/topology.ts";
import { inNetns, tryRun } from "../../effects/exec.ts";
import { etcdAddress } from "../daemon-checks.ts";
import { normalizeRoutes } from "../expectations.ts";
import { deviceChecks, judgeRoutes, routeChecks, type SeenLink } from "../host-checks.ts";
import type { CheckContext } from "./context.ts";
import { check, type CheckResult } from "./result.ts";
import { defineCheck } from "./spec.ts";

type HostStateResult = CheckResult<"routes" | "devices">;

const readRoutes = async (h: HostPlan) =>
  normalizeRoutes((await tryRun(inNetns(h.netns, ["ip", "route", "show"]))).stdout);

async function hostState(ctx: CheckContext, h: HostPlan): Promise<HostStateResult[]> {
  const { facts, expect } = await ctx.datastore();
  const { skip: ipipSkip } = await ctx.ipip();
  const want = expect.get(h.name);
  if (facts === undefined || want === undefined || typeof want === "string") {
    const why =
      want ?? `etcd at ${etcdAddress(ctx.plan.etcd.endpoint)} is unreachable (see the daemons checks)`;
    ctx.findings.routes[h.name] = await readRoutes(h);
    const notChecked = (what: "routes" | "devices") =>
      check(what, `${what} on ${h.name}`, false, `${what} derived from the datastore`, `not checked: ${why}`);
    return [notChecked("routes"), notChecked("devices")];
  }
  let verdict = judgeRoutes(facts, want, [], ipipSkip);
  const got = await ctx.retry(
    () => readRoutes(h),
    (lines) => {
      verdict = judgeRoutes(facts, want, lines, ipipSkip);
      return verdict.missing.length === 0 && verdict.unexpected.length === 0;
    },
  );
  ctx.findings.routes[h.name] = got;
  ctx.findings.expectedRoutes[h.name] = verdict.wanted;
  const links = JSON.parse(
    (await tryRun(inNetns(h.netns, ["ip", "-d", "-j", "addr", "show"]))).stdout || "[]",
  ) as SeenLink[];
  return [...routeChecks(h.name, verdict, ipipSkip), ...deviceChecks(h.name, want, links, ipipSkip)];
}

export const hostStateCheck = defineCheck({
  categories: {
    routes: { title: "Routes (from the datastore)", markdownOrder: 7 },
    devices: { title: "Devices", markdownOrder: 8 },
  },
  async run(ctx) {
    const out: HostStateResult[] = [];
    for (const h of ctx.plan.hosts) out.push(...(await hostState(ctx, h)));
    return out;
  },
});
