// Node to pod: every host (or the sample of a big lab) pings the pods.
import { selectNodePodPairs } from "../pod-sample.ts";
import { pingCheck } from "./pings.ts";

export const nodePodCheck = pingCheck("node-pod", { title: "Node to pod", markdownOrder: 3 }, (ctx) =>
  selectNodePodPairs(ctx.plan.hosts, ctx.pods, ctx.pairMode).map(({ h, p }) => ({
    name: `${h.name} -> ${p.name} (${p.host}) ${p.ip}`,
    netns: h.netns,
    ip: p.ip,
    fromHost: h.name,
    toHost: p.host,
  })),
);
