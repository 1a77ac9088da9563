// Capture on the underlay during a cross-node pod ping: the mode's encapsulation, proven. On a routed
// underlay, one pair inside a subnet and one across the router (crosssubnet differs between the two).
import { sameSubnetHosts } from "../../lab/topology.ts";
import { hostBackends } from "../../backends/index.ts";
import { listLinks } from "../../effects/links.ts";
import { captureDuring, classifyCapture, describePacket } from "../capture.ts";
import { expectedEncapsulation, type PodPair } from "../expectations.ts";
import { ping } from "../ping.ts";
import { selectPodPairs } from "../pod-sample.ts";
import type { CheckContext } from "./context.ts";
import { check, skippedCheck, type CheckResult } from "./result.ts";
import { defineCheck } from "./spec.ts";

/** The cross-node pairs captured: the first inside a subnet, the first across subnets. */
function capturedPairs(ctx: CheckContext): PodPair[] {
  const crossPairs = selectPodPairs(ctx.pods, ctx.pairMode).filter((p) => p.crossNode);
  const same = (p: PodPair) => sameSubnetHosts(ctx.host(p.from.host), ctx.host(p.to.host));
  return [crossPairs.find(same), crossPairs.find((p) => !same(p))].filter(
    (p): p is PodPair => p !== undefined,
  );
}

async function capturePair(ctx: CheckContext, cross: PodPair): Promise<CheckResult<"capture">> {
  const fromHost = ctx.host(cross.from.host);
  const toHost = ctx.host(cross.to.host);
  const same = sameSubnetHosts(fromHost, toHost);
  const want = expectedEncapsulation(ctx.plan.mode, same);
  const name = `underlay capture ${cross.from.name} -> ${cross.to.name}${same ? "" : " (across the router)"}`;
  const wantText =
    want === "plain"
      ? `plain ICMP between pod addresses in a frame from ${cross.from.host}'s eth0`
      : describePacket({
          kind: want,
          srcMac: "",
          dstMac: "",
          outerSrc: fromHost.address,
          outerDst: toHost.address,
          line: "",
        });
  const { skip, blocked } = await ctx.ipip();
  if (blocked(fromHost.name, toHost.name)) return skippedCheck("capture", name, wantText, skip!);
  // Where the wire is seen is the host backend's business (the switch namespace's bridge, or a VM's tap).
  const at = hostBackends[fromHost.machine.kind].captureAt(ctx.plan.switchNetns, fromHost);
  const lines = await captureDuring(at.netns, at.ifname, () =>
    ping(ctx.podNetns(cross.from.name), cross.to.ip, ctx.deadlineMs),
  );
  const packet = classifyCapture(lines, cross.from.ip, cross.to.ip);
  ctx.findings.captures.push({ from: cross.from.name, to: cross.to.name, ...(packet ? { packet } : {}) });
  const links = await listLinks(fromHost.netns);
  const hostMac = links.find((l) => l.ifname === fromHost.ifname)?.address;
  const macOk = want !== "plain" || packet?.srcMac === hostMac;
  return check(
    "capture",
    name,
    packet?.kind === want && macOk,
    want === "plain" ? `${wantText} (${hostMac})` : wantText,
    describePacket(packet),
  );
}

export const captureCheck = defineCheck({
  categories: { capture: { title: "Capture on the underlay", markdownOrder: 9 } },
  async run(ctx) {
    const out: CheckResult<"capture">[] = [];
    for (const cross of capturedPairs(ctx)) out.push(await capturePair(ctx, cross));
    return out;
  },
});
