// natOutgoing: a pod reaches the outside host, which sees the node's address, not the pod's.
import { captureDuring } from "../capture.ts";
import { ping, type PingResult } from "../ping.ts";
import { check } from "./result.ts";
import { defineCheck } from "./spec.ts";

export const natCheck = defineCheck({
  categories: { nat: { title: "natOutgoing", markdownOrder: 5 } },
  async run(ctx) {
    const { plan } = ctx;
    const natPools = ((await ctx.datastore()).facts?.pools ?? []).filter((p) => p.natOutgoing && !p.disabled);
    const natPod = ctx.pods[0];
    if (!natPod || natPools.length === 0) return [];
    const nodeIP = ctx.host(natPod.host).address;
    let result: Pick<PingResult, "ok"> = { ok: false };
    const lines = await captureDuring(plan.outside.netns, plan.outside.ifname, async () => {
      result = await ping(ctx.podNetns(natPod.name), plan.outside.address, ctx.deadlineMs);
    });
    const fromNode = lines.some((l) => l.includes(`${nodeIP} > ${plan.outside.address}: ICMP echo request`));
    const fromPod = lines.some((l) =>
      l.includes(`${natPod.ip} > ${plan.outside.address}: ICMP echo request`),
    );
    return [
      check(
        "nat",
        `natOutgoing ${natPod.name} (${natPod.host}) -> outside ${plan.outside.address}`,
        result.ok && fromNode && !fromPod,
        `a reply, and the outside host sees source ${nodeIP} (the node), not ${natPod.ip}`,
        `${result.ok ? "reply" : "no reply"}; outside saw ${fromNode ? nodeIP : fromPod ? natPod.ip : "nothing"}`,
      ),
    ];
  },
});
