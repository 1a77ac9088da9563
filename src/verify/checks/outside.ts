// Seed 004: the outside router learns the pod blocks over eBGP and reaches pods through the cluster.
import { tryRun } from "../../effects/exec.ts";
import { normalizeRoutes } from "../expectations.ts";
import { inParallel, ping, pingSeen } from "../ping.ts";
import { check } from "./result.ts";
import { defineCheck } from "./spec.ts";

export const outsideCheck = defineCheck({
  categories: { outside: { title: "Outside router (BGP peer)", markdownOrder: 6 } },
  async run(ctx) {
    const { plan, pods } = ctx;
    if (plan.outside.asNumber === undefined) return [];
    const peers = plan.hosts.filter((h) => plan.routeReflectors.length === 0 || h.rrClusterId);
    const outsideRoutes = await ctx.retry(
      async () =>
        normalizeRoutes(
          (await tryRun(["ip", "-n", plan.outside.netns, "route", "show", "proto", "bird"])).stdout,
        ),
      (lines) => lines.length > 0,
    );
    const learned = check(
      "outside",
      `outside router (AS ${plan.outside.asNumber}) learns pod blocks`,
      outsideRoutes.length > 0,
      `pod blocks learned over eBGP from ${peers.map((h) => h.name).join(", ")} (proto bird)`,
      outsideRoutes.join("; ") || "no BGP routes",
    );
    const results = await inParallel(pods, 8, (p) => ping(plan.outside.netns, p.ip, ctx.deadlineMs));
    const reached = pods.map((p, i) =>
      check(
        "outside",
        `outside -> ${p.name} (${p.host}) ${p.ip}`,
        results[i]!.ok,
        "an ICMP echo reply through the cluster",
        pingSeen(results[i]!),
      ),
    );
    return [learned, ...reached];
  },
});
