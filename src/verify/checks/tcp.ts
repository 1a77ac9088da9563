// TCP: HTTP to each echo server from a pod on another node (seed 003); the client address is the pod's.
import { ECHO_PORT } from "../../lab/topology.ts";
import { scaledMs } from "../../lab/timeouts.ts";
import { inNetns, tryRun } from "../../effects/exec.ts";
import type { RunningPod } from "../expectations.ts";
import type { CheckContext } from "./context.ts";
import { check, skippedCheck, type CheckResult } from "./result.ts";
import { defineCheck } from "./spec.ts";

async function httpGet(netns: string, ip: string, port: number): Promise<string> {
  // Values are passed as arguments ($1, $2), never pasted into the script.
  const script = 'exec 3<>"/dev/tcp/$1/$2" && printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3 && timeout 3 cat <&3';
  const r = await tryRun(inNetns(netns, ["bash", "-c", script, "http-get", ip, String(port)]), {
    timeoutMs: scaledMs(5000),
  });
  return r.exitCode === 0 ? r.stdout : `error: ${(r.stderr || r.stdout).trim()}`;
}

async function echoCheck(ctx: CheckContext, server: RunningPod): Promise<CheckResult<"tcp">[]> {
  const { skip, blocked } = await ctx.ipip();
  const others = ctx.pods.filter((p) => p.host !== server.host);
  const client =
    others.find((p) => !blocked(p.host, server.host)) ?? others[0] ?? ctx.pods.find((p) => p !== server);
  if (!client) return [];
  const name = `HTTP ${client.name} (${client.host}) -> ${server.name} (${server.host}) ${server.ip}:${ECHO_PORT}`;
  const expected = `a reply from ${server.name} that saw client ${client.ip}`;
  if (blocked(client.host, server.host))
    return [skippedCheck("tcp", name, expected, skip!, { crossNode: true })];
  const body = await ctx.retry(
    () => httpGet(ctx.podNetns(client.name), server.ip, ECHO_PORT),
    (b) => b.includes(`"pod":"${server.name}"`),
  );
  const ok = body.includes(`"pod":"${server.name}"`) && body.includes(`"client":"${client.ip}"`);
  const seen = body.trim().split("\n").pop() ?? "(empty)";
  return [check("tcp", name, ok, expected, seen, { crossNode: client.host !== server.host })];
}

export const tcpCheck = defineCheck({
  categories: { tcp: { title: "TCP (HTTP to the echo server)", markdownOrder: 4 } },
  async run(ctx) {
    const out: CheckResult<"tcp">[] = [];
    for (const server of ctx.pods.filter((p) => p.server)) out.push(...(await echoCheck(ctx, server)));
    return out;
  },
});
