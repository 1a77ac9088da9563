// `scripts/compare [stack...] [--json]`: what each mode costs, measured on running stacks. Per stack:
// pod↔pod latency (ping -c 20 -i 0.05) and throughput (iperf3 -J -t 3) between two pods on different
// nodes, the same between those two nodes over the underlay, each pod figure as a ratio to the host one;
// the MTUs in use and the encapsulation a capture on the underlay shows. Traffic stays inside the lab's
// namespaces; every iperf3 server is bounded (one client, idle timeout) and killed when we are done.
// Stacks must be up: named stacks that are not are an error; of the defaults (bgp, vxlan), those up are
// measured and the others get a column saying how to bring them up.
import { spawn, type ChildProcess } from "node:child_process";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { preflight } from "../agent/felix/preflight.ts";
import { inNetns, tryRun } from "../effects/exec.ts";
import { listLinks } from "../effects/links.ts";
import { assertNetnsName } from "../effects/names.ts";
import { MODE_SPECS } from "../modes.ts";
import { captureDuring, classifyCapture } from "../verify/capture.ts";
import {
  compareColumns,
  parseIperf3Json,
  parsePingSummary,
  renderCompareTable,
  withRatios,
  type PathMeasurement,
  type StackMeasurement,
} from "../verify/compare.ts";
import { ping } from "../verify/ping.ts";
import { readStack, StackNotUpError, type StackInfo } from "./stack-info.ts";

export const DEFAULT_STACKS = ["bgp", "vxlan"];
export const IPIP_UNAVAILABLE = "needs a kernel with ipip (run in a VM)";
export const COMPARE_USAGE =
  "usage: scripts/compare [stack...] [--json]   (default: bgp vxlan, those that are up)";
const IPERF_PORT = 5201;
const IPERF_SECONDS = 3;

export interface CompareArgs {
  stacks: string[];
  explicit: boolean;
  json: boolean;
}

export function parseCompareArgs(argv: readonly string[]): CompareArgs {
  const stacks: string[] = [];
  let json = false;
  for (const a of argv) {
    if (a === "--json") json = true;
    else if (a === "-h" || a === "--help") throw new Error(COMPARE_USAGE);
    else if (a.startsWith("-")) throw new Error(`unknown option ${a}\n${COMPARE_USAGE}`);
    else if (!stacks.includes(a)) stacks.push(a);
  }
  return stacks.length > 0
    ? { stacks, explicit: true, json }
    : { stacks: [...DEFAULT_STACKS], explicit: false, json };
}

/** The pair measured: a server pod and a client pod on another node (servers preferred as targets). */
export function choosePair(info: Pick<StackInfo, "pods">) {
  const pods = info.pods;
  for (const server of [...pods.filter((p) => p.server), ...pods.filter((p) => !p.server)]) {
    const client = pods.find((p) => p.host !== server.host);
    if (client) return { client, server };
  }
  return undefined;
}

// Servers we started, killed on any exit (normal, error, Ctrl-C).
const servers = new Set<ChildProcess>();
function killServers() {
  for (const s of servers) if (s.exitCode === null) s.kill("SIGKILL");
  servers.clear();
}
function killServersOnExit() {
  process.once("exit", killServers);
  for (const sig of ["SIGINT", "SIGTERM"] as const)
    process.once(sig, () => {
      killServers();
      process.exit(130);
    });
}

/** iperf3 -s in `netns` for one client (-1), gone by itself after 20 s idle; resolves once listening. */
async function startIperfServer(netns: string, bind: string): Promise<ChildProcess> {
  const argv = inNetns(assertNetnsName(netns), [
    "iperf3",
    "-s",
    "-1",
    "-B",
    bind,
    "-p",
    String(IPERF_PORT),
    "--idle-timeout",
    "20",
  ]);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  servers.add(child);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  // iperf3 buffers its banner when writing to a pipe: ask the namespace's socket table instead.
  const until = Date.now() + 5000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`iperf3 server in ${netns} exited: ${out.trim() || `code ${child.exitCode}`}`);
    const ss = await tryRun(inNetns(netns, ["ss", "-Hltn", `sport = :${IPERF_PORT}`]));
    if (ss.stdout.includes(`:${IPERF_PORT}`)) break;
    if (Date.now() > until) {
      await stopServer(child);
      throw new Error(`iperf3 server in ${netns} did not listen within 5 s: ${out.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const gone = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    await Promise.race([gone, new Promise((r) => setTimeout(r, 2000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  servers.delete(child);
}

/** Latency and throughput from `fromNetns` to `address` (served from `toNetns`). */
async function measurePath(
  from: string,
  fromNetns: string,
  to: string,
  toNetns: string,
  address: string,
): Promise<PathMeasurement> {
  const m: PathMeasurement = { from, to, address, errors: [] };
  // Warm up (ARP, routes) so the first sample is not an outlier; the lab is up, this answers at once.
  await ping(fromNetns, address, 5000);
  const p = await tryRun(
    inNetns(fromNetns, ["ping", "-n", "-q", "-c", "20", "-i", "0.05", "-W", "1", address]),
    {
      timeoutMs: 30_000,
    },
  );
  try {
    m.latency = parsePingSummary(p.stdout + p.stderr);
  } catch (e) {
    m.errors.push(`ping: ${(e as Error).message}`);
  }
  let server: ChildProcess | undefined;
  try {
    server = await startIperfServer(toNetns, address);
    const r = await tryRun(
      inNetns(fromNetns, [
        "iperf3",
        "-c",
        address,
        "-p",
        String(IPERF_PORT),
        "-J",
        "-t",
        String(IPERF_SECONDS),
      ]),
      { timeoutMs: (IPERF_SECONDS + 15) * 1000 },
    );
    m.throughput = parseIperf3Json(r.stdout || r.stderr);
  } catch (e) {
    m.errors.push(`iperf3: ${(e as Error).message}`);
  } finally {
    if (server) await stopServer(server);
  }
  return m;
}

async function mtuOf(netns: string, ifname: string): Promise<number | undefined> {
  return (await listLinks(netns).catch(() => [])).find((l) => l.ifname === ifname)?.mtu;
}

export async function measureStack(info: StackInfo): Promise<StackMeasurement> {
  const pair = choosePair(info);
  if (!pair) throw new Error(`stack "${info.stack}" has no two pods on different nodes to measure between`);
  const { client, server } = pair;
  const plan = info.plan;
  const podNs = (name: string) => plan.pods.find((p) => p.name === name)!.netns;
  const hostOf = (name: string) => plan.hosts.find((h) => h.name === name)!;
  const clientHost = hostOf(client.host);
  const serverHost = hostOf(server.host);

  // The encapsulation, seen now: one cross-node pod ping captured on the underlay bridge.
  const lines = await captureDuring(plan.switchNetns, plan.bridge, () =>
    ping(podNs(client.name), server.ip, 5000),
  );
  const packet = classifyCapture(lines, client.ip, server.ip);
  const links = await listLinks(clientHost.netns);
  const device = MODE_SPECS[plan.mode].tunnel;
  const tunnelLink = device ? links.find((l) => l.ifname === device) : undefined;

  const pod = await measurePath(client.name, podNs(client.name), server.name, podNs(server.name), server.ip);
  const host = await measurePath(
    clientHost.name,
    clientHost.netns,
    serverHost.name,
    serverHost.netns,
    serverHost.address,
  );
  const podMtu = await mtuOf(podNs(client.name), "eth0");
  const underlayMtu = await mtuOf(clientHost.netns, clientHost.ifname);
  return withRatios({
    stack: info.stack,
    mode: plan.mode,
    encapsulation: packet?.kind ?? "none seen",
    ...(podMtu !== undefined ? { podMtu } : {}),
    ...(tunnelLink ? { tunnel: { device: tunnelLink.ifname, mtu: tunnelLink.mtu } } : {}),
    ...(underlayMtu !== undefined ? { underlayMtu } : {}),
    pod,
    host,
  });
}

async function ipipAvailable(): Promise<boolean> {
  return (await preflight("ipip")).length === 0;
}

async function main(argv: readonly string[]): Promise<number> {
  let args: CompareArgs;
  try {
    args = parseCompareArgs(argv);
  } catch (e) {
    process.stderr.write(`compare: ${(e as Error).message}\n`);
    return 2;
  }
  killServersOnExit();
  const infos: StackInfo[] = [];
  const notUp: Record<string, string> = {};
  for (const s of args.stacks) {
    try {
      infos.push(await readStack(s));
    } catch (e) {
      if (!(e instanceof StackNotUpError) || args.explicit) {
        process.stderr.write(`compare: ${(e as Error).message}\n`);
        return 2;
      }
      notUp[s] = `stack ${s} not up (bash scripts/lab-up ${s})`;
    }
  }
  if (infos.length === 0) {
    process.stderr.write(
      `compare: none of ${args.stacks.join(", ")} is up; bring one up first, e.g. bash scripts/lab-up bgp\n`,
    );
    return 2;
  }
  const measured: StackMeasurement[] = [];
  for (const info of infos) {
    if (!args.json) process.stderr.write(`measuring ${info.stack} (${info.plan.mode})...\n`);
    measured.push(await measureStack(info));
  }
  const reasons: Record<string, string> = {};
  for (const [s, why] of Object.entries(notUp)) reasons[s] = why;
  const wantIpip = !measured.some((m) => m.mode === "ipip");
  if (wantIpip)
    reasons.ipip = (await ipipAvailable())
      ? "stack ipip not measured (bash scripts/lab-up ipip, then scripts/compare ipip ...)"
      : IPIP_UNAVAILABLE;
  const always = ["ipip", "bgp", "vxlan"].filter((m) => m === "ipip" || reasons[m]);
  for (const s of Object.keys(notUp)) if (!always.includes(s)) always.push(s);
  const cols = compareColumns(measured, always, reasons);
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({ measuredAt: new Date().toISOString(), columns: cols }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(`${renderCompareTable(cols)}\n`);
    process.stdout.write(
      "\nratios (xN) are pod÷host between the same two nodes: latency >1 is slower, throughput <1 carries less.\n",
    );
  }
  const failed = measured.filter((m) => m.pod.errors.length + m.host.errors.length > 0);
  return failed.length > 0 ? 1 : 0;
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`compare: ${(e as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    killServers();
  }
}
