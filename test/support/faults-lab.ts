// What the fault bench and the fault tests look at on a running lab, from outside the lab's own code:
// its daemons (found by command line in their namespace, whatever pid files say), routes, pod addresses,
// IPAM as stored in etcd, `scripts/verify`, and the lab's health between faults.
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { inNetns, tryRun } from "../../src/effects/exec.ts";
import { netnsExists, pidsInNetns } from "../../src/effects/netns.ts";
import { BLOCK_PREFIX } from "../../src/agent/datastore/keys.ts";
import { ensureGoProgram } from "../../src/build/go-programs.ts";
import { startDaemon } from "../../src/effects/daemon.ts";
import { REPO_ROOT } from "./pulumi-env.ts";

export interface LabHost {
  namespace: string;
  address: string;
}
export interface LabPod {
  namespace: string;
  host: string;
  ip: string;
}

/** A running lab as its stack outputs describe it. */
export interface Lab {
  stack: string;
  runDir: string;
  hosts: Record<string, LabHost>;
  pods: Record<string, LabPod>;
  etcdEndpoint: string;
  /** The namespace etcd runs in (the master's). */
  etcdNetns: string;
}

interface Outputs {
  hosts?: Record<string, LabHost>;
  pods?: Record<string, LabPod>;
}

/** The lab from `pulumi stack output` (plain values, as the Automation API's outputs unwrap to). */
export function labFromOutputs(stack: string, outputs: Outputs): Lab {
  // Host addresses are outputs with their prefix length ("192.168.19.165/24").
  const hosts = Object.fromEntries(
    Object.entries(outputs.hosts ?? {}).map(([n, h]) => [n, { ...h, address: h.address.split("/")[0]! }]),
  );
  const pods = outputs.pods ?? {};
  const master = hosts["master"];
  if (!master) throw new Error(`stack ${stack}: no master host in its outputs`);
  return {
    stack,
    runDir: join(REPO_ROOT, ".lab", stack),
    hosts,
    pods,
    etcdEndpoint: `http://${master.address}:2379`,
    etcdNetns: master.namespace,
  };
}

export function hostOf(lab: Lab, name: string): LabHost {
  const h = lab.hosts[name];
  if (!h) throw new Error(`lab ${lab.stack} has no host ${name}`);
  return h;
}

export function podOf(lab: Lab, name: string): LabPod {
  const p = lab.pods[name];
  if (!p) throw new Error(`lab ${lab.stack} has no pod ${name}`);
  return p;
}

// ---- daemons ------------------------------------------------------------------------------------------

export type Daemon =
  | { kind: "agent"; host: string }
  | { kind: "bird"; host: string }
  | { kind: "etcd" }
  | { kind: "echo"; pod: string };

export function daemonLabel(d: Daemon): string {
  switch (d.kind) {
    case "agent":
      return `calico-node on ${d.host}`;
    case "bird":
      return `BIRD on ${d.host}`;
    case "etcd":
      return "etcd";
    case "echo":
      return `echo server ${d.pod}`;
  }
}

/** The script a node process runs: its first argument that names a module (not an option's value). */
export function nodeScript(argv: readonly string[]): string | undefined {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--import" || a === "--require" || a === "-r" || a === "--loader") {
      i++;
      continue;
    }
    if (a.startsWith("-")) continue;
    return /\.(mjs|cjs|js|ts)$/.test(a) ? a : undefined;
  }
  return undefined;
}

/** Pure: is this command line the daemon of that kind? (A supervisor wrapping it runs another script.) */
export function isDaemonArgv(kind: Daemon["kind"], argv: readonly string[]): boolean {
  const exe = basename(argv[0] ?? "");
  const script = nodeScript(argv) ?? "";
  switch (kind) {
    case "bird":
      return exe === "bird";
    case "etcd":
      return exe === "etcd";
    case "agent":
      return exe.startsWith("node") && /(\/agent\.mjs|\/agent\/daemon\/main\.ts)$/.test(script);
    case "echo":
      return exe === "echo-server" || (exe.startsWith("node") && /\/echo-server\.(mjs|ts)$/.test(script));
  }
}

function daemonNetns(lab: Lab, d: Daemon): string {
  if (d.kind === "etcd") return lab.etcdNetns;
  if (d.kind === "echo") return podOf(lab, d.pod).namespace;
  return hostOf(lab, d.host).namespace;
}

async function cmdline(pid: number): Promise<string[]> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

async function isLive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const state = stat.charAt(stat.lastIndexOf(")") + 2);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** The live processes of that daemon in its namespace (normally one). */
export async function daemonPids(lab: Lab, d: Daemon): Promise<number[]> {
  const out: number[] = [];
  for (const pid of await pidsInNetns(daemonNetns(lab, d))) {
    if (isDaemonArgv(d.kind, await cmdline(pid)) && (await isLive(pid))) out.push(pid);
  }
  return out.sort((a, b) => a - b);
}

export function kill9(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
}

/** The parent of a process (0 when it is gone). */
async function parentPid(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * Keeps a daemon dead: SIGKILL to every process of it, every `everyMs`, until stopped; with `holdSupervisor`,
 * its supervisor (the parent of a killed daemon, when it is one) is held with SIGSTOP too, so that nothing
 * brings it back while a check runs. Killing alone left windows: the echo server, a static Go program,
 * answers within milliseconds of its restart, and a check that asks again for 2 s once hit one (verify passed
 * 50/50 with it "dead").
 * stop() continues the supervisors, which then restart the daemon. Returns stop().
 */
export function keepDead(
  lab: Lab,
  d: Daemon,
  opts: { holdSupervisor?: boolean; everyMs?: number } = {},
): () => Promise<void> {
  const everyMs = opts.everyMs ?? 20;
  let running = true;
  const held = new Set<number>();
  const loop = (async () => {
    while (running) {
      const pids = await daemonPids(lab, d).catch(() => []);
      for (const pid of pids) {
        const parent = await parentPid(pid);
        if (!opts.holdSupervisor || parent <= 1 || held.has(parent)) continue;
        if (!(await cmdline(parent)).some((a) => /supervise/.test(a))) continue;
        try {
          process.kill(parent, "SIGSTOP");
          held.add(parent);
        } catch {
          /* gone */
        }
      }
      kill9(pids);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return async () => {
    running = false;
    await loop;
    for (const pid of held) {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        /* gone */
      }
    }
  };
}

/** `ip … monitor` processes in a host's namespace (an agent's netlink watch; orphaned when it is killed). */
export async function ipMonitors(lab: Lab, host: string): Promise<number> {
  let n = 0;
  for (const pid of await pidsInNetns(hostOf(lab, host).namespace)) {
    const argv = await cmdline(pid);
    if (basename(argv[0] ?? "") === "ip" && argv.includes("monitor") && (await isLive(pid))) n++;
  }
  return n;
}

interface AgentStatusFile {
  phase?: string;
  pid?: number;
  birdSocket?: string;
}

async function agentStatus(lab: Lab, host: string): Promise<AgentStatusFile | null> {
  try {
    return JSON.parse(await readFile(join(lab.runDir, host, "status.json"), "utf8")) as AgentStatusFile;
  } catch {
    return null;
  }
}

/** The agent runs (not as `notPid`) and its status says ready, for a live pid other than `notPid`. */
export async function agentReady(lab: Lab, host: string, notPid?: number): Promise<boolean> {
  const pids = (await daemonPids(lab, { kind: "agent", host })).filter((p) => p !== notPid);
  if (pids.length === 0) return false;
  const st = await agentStatus(lab, host);
  return st?.phase === "ready" && st.pid !== undefined && st.pid !== notPid && (await isLive(st.pid));
}

/** BGP sessions in `birdc show protocols` that are Established, and how many BGP sessions there are. */
export function bgpSessions(text: string): { established: number; total: number } {
  const bgp = text.split("\n").filter((l) => /^\S+\s+BGP\s/.test(l));
  return { established: bgp.filter((l) => /\bEstablished\b/.test(l)).length, total: bgp.length };
}

export async function birdSessions(lab: Lab, host: string): Promise<{ established: number; total: number }> {
  const socket = (await agentStatus(lab, host))?.birdSocket ?? join(lab.runDir, host, "bird.ctl");
  const r = await tryRun(["birdc", "-s", socket, "show", "protocols"], { timeoutMs: 2000 });
  return r.exitCode === 0 ? bgpSessions(r.stdout) : { established: 0, total: 0 };
}

/** Routes BIRD programmed on a host (`proto bird`), as lines. */
export async function birdRoutes(lab: Lab, host: string): Promise<string[]> {
  const r = await tryRun(["ip", "-n", hostOf(lab, host).namespace, "route", "show", "proto", "bird"]);
  return r.stdout.split("\n").filter(Boolean).sort();
}

/** A new BIRD (not `notPid`), every BGP session Established, and at least `routes` BIRD routes. */
export async function birdReady(lab: Lab, host: string, routes: number, notPid?: number): Promise<boolean> {
  const pids = (await daemonPids(lab, { kind: "bird", host })).filter((p) => p !== notPid);
  if (pids.length === 0) return false;
  const s = await birdSessions(lab, host);
  if (s.total === 0 || s.established !== s.total) return false;
  return (await birdRoutes(lab, host)).length >= routes;
}

export async function etcdHealthy(lab: Lab): Promise<boolean> {
  const argv = ["etcdctl", "--endpoints", lab.etcdEndpoint, "--dial-timeout", "1s", "endpoint", "health"];
  return (await tryRun(inNetns(lab.etcdNetns, argv), { timeoutMs: 3000 })).exitCode === 0;
}

export async function etcdReady(lab: Lab, notPid?: number): Promise<boolean> {
  const pids = (await daemonPids(lab, { kind: "etcd" })).filter((p) => p !== notPid);
  return pids.length > 0 && (await etcdHealthy(lab));
}

/**
 * An HTTP GET from one pod to the echo pod answers, made as verification's TCP check makes it (bash's
 * /dev/tcp; Debian's static busybox wget crashes with SIGSEGV here once it has connected).
 */
export async function echoAnswers(lab: Lab, fromPod: string, echoPod: string, port = 8080): Promise<boolean> {
  // Values are passed as arguments ($1, $2), never pasted into the script.
  const script = 'exec 3<>"/dev/tcp/$1/$2" && printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3 && timeout 1 cat <&3';
  const argv = inNetns(podOf(lab, fromPod).namespace, [
    "bash",
    "-c",
    script,
    "http-get",
    podOf(lab, echoPod).ip,
    String(port),
  ]);
  const r = await tryRun(argv, { timeoutMs: 3000 });
  return r.exitCode === 0 && r.stdout.includes(`"pod":"${echoPod}"`);
}

export async function echoReady(
  lab: Lab,
  echoPod: string,
  fromPod: string,
  notPid?: number,
): Promise<boolean> {
  const pids = (await daemonPids(lab, { kind: "echo", pod: echoPod })).filter((p) => p !== notPid);
  return pids.length > 0 && (await echoAnswers(lab, fromPod, echoPod));
}

/**
 * Starts a pod's echo server again, by hand, as the lab's pod resource starts it (src/lab/providers/
 * pod-handler.ts): `pulumi up --refresh` cannot (it re-creates the whole pod, whose namespace exists).
 */
export async function restartEchoByHand(lab: Lab, pod: string, port = 8080): Promise<void> {
  const ns = podOf(lab, pod).namespace;
  await startDaemon({
    name: `echo-${pod}`,
    netns: ns,
    argv: [await ensureGoProgram("echo-server"), String(port), pod, `${lab.runDir}/`],
    runDir: lab.runDir,
    ready: async () =>
      (await tryRun(inNetns(ns, ["ss", "-Hltn", `sport = :${port}`]))).stdout.includes(`:${port}`),
  });
}

// ---- routes and pods ----------------------------------------------------------------------------------

/** `ip route show <selector…>` in a namespace, as lines. */
export async function routeLines(netns: string, selector: readonly string[]): Promise<string[]> {
  const r = await tryRun(["ip", "-n", netns, "route", "show", ...selector]);
  return r.exitCode === 0 ? r.stdout.split("\n").filter(Boolean) : [];
}

/** The host's default route line ("default dev eth0 scope link"), or undefined. */
export async function defaultRoute(lab: Lab, host: string): Promise<string | undefined> {
  return (await routeLines(hostOf(lab, host).namespace, ["default"]))[0];
}

/** The /32 route of a pod on its host ("10.244.x.y dev caliXXXX scope link"), or undefined. */
export async function workloadRoute(lab: Lab, pod: string): Promise<string | undefined> {
  const p = podOf(lab, pod);
  const lines = await routeLines(hostOf(lab, p.host).namespace, [`${p.ip}/32`]);
  return lines.find((l) => /\bdev cali/.test(l));
}

/** `ip route add` with the words of a route line as `ip route show` printed it (read from the kernel). */
export async function addRoute(netns: string, line: string): Promise<boolean> {
  const words = line.split(/\s+/).filter(Boolean);
  return (await tryRun(["ip", "-n", netns, "route", "replace", ...words])).exitCode === 0;
}

/** One ping from a pod to an address answers within a second. */
export async function pingOnce(netns: string, ip: string): Promise<boolean> {
  const r = await tryRun(inNetns(netns, ["ping", "-c", "1", "-W", "1", "-n", ip]), { timeoutMs: 3000 });
  return r.exitCode === 0;
}

/** The pod's address on eth0 as its namespace has it, or undefined (no namespace, no address). */
export async function podAddress(lab: Lab, pod: string): Promise<string | undefined> {
  const ns = podOf(lab, pod).namespace;
  if (!(await netnsExists(ns))) return undefined;
  const r = await tryRun(["ip", "-n", ns, "-4", "-o", "addr", "show", "dev", "eth0"]);
  return /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(r.stdout)?.[1];
}

export async function podAddresses(lab: Lab): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {};
  for (const name of Object.keys(lab.pods)) out[name] = await podAddress(lab, name);
  return out;
}

// ---- IPAM ---------------------------------------------------------------------------------------------

export interface Allocation {
  ip: string;
  handle: string | null;
  block: string;
}

function ipAt(cidr: string, i: number): string {
  const [addr] = cidr.split("/");
  const n = addr!.split(".").reduce((acc, o) => acc * 256 + Number(o), 0) + i;
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/** Pure: the addresses a stored block hands out, with their handles. */
export function blockAllocations(block: {
  cidr: string;
  allocations: (number | null)[];
  attributes: { handle_id: string | null }[];
}): Allocation[] {
  const out: Allocation[] = [];
  block.allocations.forEach((a, i) => {
    if (a !== null)
      out.push({
        ip: ipAt(block.cidr, i),
        handle: block.attributes[a]?.handle_id ?? null,
        block: block.cidr,
      });
  });
  return out;
}

/** Every allocated address in etcd (Calico's block keys), read with etcdctl in the master's namespace. */
export async function ipamAllocations(lab: Lab): Promise<Allocation[]> {
  const argv = ["etcdctl", "--endpoints", lab.etcdEndpoint, "--dial-timeout", "2s"];
  argv.push("get", "--prefix", BLOCK_PREFIX, "-w", "json");
  const r = await tryRun(inNetns(lab.etcdNetns, argv), { timeoutMs: 8000 });
  if (r.exitCode !== 0) throw new Error(`could not read IPAM blocks from etcd: ${r.stderr.trim()}`);
  const kvs = (JSON.parse(r.stdout) as { kvs?: { value: string }[] }).kvs ?? [];
  return kvs.flatMap((kv) => blockAllocations(JSON.parse(Buffer.from(kv.value, "base64").toString("utf8"))));
}

export interface IpamVerdict {
  /** Addresses held by more than one pod, or handles holding more than one address. */
  duplicates: string[];
  /** Pod allocations that belong to no running pod at its address. */
  leaks: string[];
  /** Pods whose address changed (or that have none). */
  changed: string[];
}

/**
 * Pure: the pods' addresses against IPAM. A pod's handle is "k8s-pod-network.<containerId>", the
 * containerId being "<stack>-<pod>" (src/lab/topology.ts); other handles (tunnel addresses) are not pods'.
 */
export function ipamVerdict(
  stack: string,
  before: Record<string, string | undefined>,
  now: Record<string, string | undefined>,
  allocations: readonly Allocation[],
): IpamVerdict {
  const duplicates: string[] = [];
  const byIp = new Map<string, string[]>();
  for (const [pod, ip] of Object.entries(now)) if (ip) byIp.set(ip, [...(byIp.get(ip) ?? []), pod]);
  for (const [ip, pods] of byIp) if (pods.length > 1) duplicates.push(`${ip} on pods ${pods.join(", ")}`);
  const byHandle = new Map<string, string[]>();
  for (const a of allocations)
    if (a.handle) byHandle.set(a.handle, [...(byHandle.get(a.handle) ?? []), a.ip]);
  for (const [h, ips] of byHandle) if (ips.length > 1) duplicates.push(`handle ${h} holds ${ips.join(", ")}`);
  const leaks: string[] = [];
  const prefix = `k8s-pod-network.${stack}-`;
  for (const a of allocations) {
    if (a.handle !== null && !a.handle.startsWith("k8s-pod-network.")) continue; // tunnel addresses
    const pod = a.handle?.startsWith(prefix) ? a.handle.slice(prefix.length) : undefined;
    if (pod === undefined || now[pod] !== a.ip)
      leaks.push(`${a.ip} (block ${a.block}, handle ${a.handle ?? "none"}) is held by no running pod`);
  }
  for (const [pod, ip] of Object.entries(now)) {
    if (!allocations.some((a) => a.ip === ip))
      leaks.push(`pod ${pod} uses ${ip ?? "no address"}, not allocated`);
  }
  const changed = Object.keys(before)
    .filter((p) => before[p] !== now[p])
    .map((p) => `${p}: ${before[p] ?? "none"} -> ${now[p] ?? "none"}`);
  return { duplicates, leaks: [...new Set(leaks)], changed };
}

export async function ipamCheck(lab: Lab, before: Record<string, string | undefined>): Promise<IpamVerdict> {
  return ipamVerdict(lab.stack, before, await podAddresses(lab), await ipamAllocations(lab));
}

export function formatIpam(v: IpamVerdict): string {
  const n = (xs: string[]) => (xs.length === 0 ? "0" : `${xs.length} (${xs.join("; ")})`);
  return `duplicates ${n(v.duplicates)}, leaks ${n(v.leaks)}, changed ${n(v.changed)}`;
}

// ---- scripts/verify -----------------------------------------------------------------------------------

export interface VerifyRun {
  ok: boolean;
  exitCode: number;
  passed: number;
  total: number;
  /** "[category] name: seen" of each failed check. */
  failed: string[];
  /** stderr, when verify printed no report (e.g. it crashed). */
  error: string;
  durationMs: number;
}

interface VerifyJson {
  ok: boolean;
  checks: { category: string; name: string; ok: boolean; expected: string; seen: string }[];
}

/** `scripts/verify <stack> --json`: the lab's verification, outside `pulumi up`. */
export function runVerify(stack: string, deadlineMs = 3000, timeoutMs = 60_000): Promise<VerifyRun> {
  const t0 = Date.now();
  const argv = [join(REPO_ROOT, "scripts", "verify"), stack, "--json", "--deadline-ms", String(deadlineMs)];
  return new Promise((resolve) => {
    const child = spawn("bash", argv, {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: timeoutMs,
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.once("close", (code) => {
      let report: VerifyJson | null = null;
      try {
        report = JSON.parse(out) as VerifyJson;
      } catch {
        /* no report */
      }
      const checks = report?.checks ?? [];
      resolve({
        ok: code === 0 && report?.ok === true,
        exitCode: code ?? -1,
        passed: checks.filter((c) => c.ok).length,
        total: checks.length,
        failed: checks.filter((c) => !c.ok).map((c) => `[${c.category}] ${c.name}: ${c.seen}`),
        error: err.trim(),
        durationMs: Date.now() - t0,
      });
    });
  });
}

export function formatVerify(v: VerifyRun): string {
  if (v.total === 0)
    return `verify: no report (exit ${v.exitCode}): ${v.error.split("\n").slice(-3).join(" | ")}`;
  return `verify ${v.passed}/${v.total}${v.ok ? "" : ` FAILED: ${v.failed.slice(0, 3).join(" | ")}`}`;
}

// ---- health between faults ----------------------------------------------------------------------------

/** What a healthy lab has, taken once after `up`: the lines to compare with and to restore from. */
export interface Baseline {
  defaultRoutes: Record<string, string>;
  workloadRoutes: Record<string, string>;
  birdRoutes: Record<string, number>;
  podIps: Record<string, string | undefined>;
  /** Pods running an echo server. */
  echoPods: string[];
}

export async function takeBaseline(lab: Lab): Promise<Baseline> {
  const b: Baseline = {
    defaultRoutes: {},
    workloadRoutes: {},
    birdRoutes: {},
    podIps: await podAddresses(lab),
    echoPods: [],
  };
  for (const pod of Object.keys(lab.pods))
    if ((await daemonPids(lab, { kind: "echo", pod })).length > 0) b.echoPods.push(pod);
  for (const host of Object.keys(lab.hosts)) {
    const d = await defaultRoute(lab, host);
    if (!d) throw new Error(`${host} has no default route right after up`);
    b.defaultRoutes[host] = d;
    b.birdRoutes[host] = (await birdRoutes(lab, host)).length;
  }
  for (const pod of Object.keys(lab.pods)) {
    const r = await workloadRoute(lab, pod);
    if (!r) throw new Error(`pod ${pod} has no /32 route on its host right after up`);
    b.workloadRoutes[pod] = r;
  }
  return b;
}

/** Everything that is not as the baseline says (empty: healthy). */
export async function healthProblems(lab: Lab, b: Baseline): Promise<string[]> {
  const p: string[] = [];
  const daemons: Daemon[] = [{ kind: "etcd" }];
  for (const host of Object.keys(lab.hosts)) daemons.push({ kind: "agent", host }, { kind: "bird", host });
  for (const pod of b.echoPods) daemons.push({ kind: "echo", pod });
  for (const d of daemons)
    if ((await daemonPids(lab, d)).length === 0) p.push(`${daemonLabel(d)} is not running`);
  for (const host of Object.keys(lab.hosts)) {
    if (!(await defaultRoute(lab, host))) p.push(`${host}: no default route`);
    if ((await daemonPids(lab, { kind: "agent", host })).length > 0 && !(await agentReady(lab, host)))
      p.push(`calico-node on ${host} is not ready`);
    const n = (await birdRoutes(lab, host)).length;
    if (n < (b.birdRoutes[host] ?? 0)) p.push(`${host}: ${n} BIRD routes, ${b.birdRoutes[host]} before`);
  }
  for (const pod of Object.keys(lab.pods)) {
    if (!(await netnsExists(podOf(lab, pod).namespace))) p.push(`pod ${pod}: no namespace`);
    else if (!(await workloadRoute(lab, pod))) p.push(`pod ${pod}: no /32 route on its host`);
  }
  return p;
}

/** Re-adds the baseline's default and workload routes that are missing. Returns what it re-added. */
export async function restoreRoutes(lab: Lab, b: Baseline): Promise<string[]> {
  const done: string[] = [];
  for (const [host, line] of Object.entries(b.defaultRoutes)) {
    if (!(await defaultRoute(lab, host)) && (await addRoute(hostOf(lab, host).namespace, line)))
      done.push(`${host}: ${line}`);
  }
  for (const [pod, line] of Object.entries(b.workloadRoutes)) {
    const p = podOf(lab, pod);
    if (!(await netnsExists(p.namespace))) continue;
    if (!(await workloadRoute(lab, pod)) && (await addRoute(hostOf(lab, p.host).namespace, line)))
      done.push(`${p.host}: ${line}`);
  }
  return done;
}

/**
 * Runs `scripts/verify` until it passes, starting runs until `deadline` (ms since the epoch). Returns the
 * passing run and when it started, or the last failing run (`startedAt` null).
 */
export async function verifyGreenBy(
  stack: string,
  deadline: number,
): Promise<{ run: VerifyRun; startedAt: number | null }> {
  let last: VerifyRun | undefined;
  do {
    const startedAt = Date.now();
    last = await runVerify(stack, 3000);
    if (last.ok) return { run: last, startedAt };
  } while (Date.now() < deadline);
  return { run: last, startedAt: null };
}
