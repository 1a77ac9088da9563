// BGP sessions: on every host, when BIRD runs anywhere, every session Established.
import { inNetns, tryRun } from "../../effects/exec.ts";
import { parseBgpSessions, type BgpSession } from "../bird.ts";
import { birdSocketOf, readAgentClaim } from "../daemons.ts";
import { check, type CheckResult } from "./result.ts";
import { defineCheck } from "./spec.ts";

function sessionsSeen(peers: readonly BgpSession[]): string {
  const down = peers.filter((p) => !p.info.startsWith("Established"));
  if (peers.length === 0) return "no BGP sessions";
  if (down.length === 0) return `${peers.length} Established (${peers.map((p) => p.address).join(", ")})`;
  return down.map((p) => `${p.address}: ${p.state} ${p.info}`).join("; ");
}

export const bgpCheck = defineCheck({
  categories: { bgp: { title: "BGP sessions", markdownOrder: 10 } },
  async run(ctx) {
    const { birdOn } = await ctx.datastore();
    if (!ctx.plan.hosts.some((h) => birdOn(h.name))) return [];
    const established = (p: BgpSession) => p.info.startsWith("Established");
    const out: CheckResult<"bgp">[] = [];
    for (const h of ctx.plan.hosts) {
      // birdc in the host's namespace: a VM host's BIRD and its socket are inside the VM.
      const runDir = ctx.hostRunDir(h.name);
      const sock = birdSocketOf(runDir, await readAgentClaim(runDir));
      const peers = await ctx.retry(
        async () =>
          parseBgpSessions(
            (await tryRun(inNetns(h.netns, ["birdc", "-s", sock, "show", "protocols"]))).stdout,
          ),
        (ps) => ps.length > 0 && ps.every(established),
      );
      ctx.findings.bgp[h.name] = peers;
      out.push(
        check(
          "bgp",
          `BGP sessions of ${h.name}`,
          peers.length > 0 && peers.every(established),
          "every session Established",
          sessionsSeen(peers),
        ),
      );
    }
    return out;
  },
});
