// Pod to pod: every ordered pair of pods (or the sample of a big lab) answers a ping.
import { selectPodPairs } from "../pod-sample.ts";
import { pingCheck } from "./pings.ts";

export const podPodCheck = pingCheck("pod-pod", { title: "Pod to pod", markdownOrder: 2 }, (ctx) =>
  selectPodPairs(ctx.pods, ctx.pairMode).map((p) => ({
    name: `${p.from.name} (${p.from.host}) -> ${p.to.name} (${p.to.host}) ${p.to.ip}`,
    netns: ctx.podNetns(p.from.name),
    ip: p.to.ip,
    fromHost: p.from.host,
    toHost: p.to.host,
  })),
);
