// Starting and stopping the agent daemon from the root namespace (what the lab's providers call).
// The daemon runs under its supervisor (src/supervise/, as calico-node's runsv runs felix and confd):
// `ip netns exec <host> node dist/bin/agent.mjs …` in its own process group, started again with backoff
// when it dies, stdout+stderr appended to <runDir>/agent.log, its current pid in <runDir>/agent.pid,
// the supervisor's state in <runDir>/agent.supervise.json. BIRD has a session of its own: it keeps
// running (and its routes stay) while the agent is down, and the restarted agent adopts it.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { assertNetnsName } from "../../effects/names.ts";
import { inNetns } from "../../effects/exec.ts";
import { showProtocols } from "../bird/birdc.ts";
import { runningBird } from "../bird/supervisor.ts";
import { formatNodeStatus, parseBirdProtocols } from "../status/node-status.ts";
import { bundlePath, entryArgv } from "../../build/bundles.ts";
import { daemonArgv } from "./args.ts";
import type { UnderlayRoute } from "../felix/host.ts";
import { birdSocketOf, LAUNCH_ENV, readStatus, runFiles, statusOf, type AgentStatus } from "./status.ts";
import { startSupervised, stopSupervised, supervisorOf } from "../../supervise/control.ts";
import { superviseFiles } from "../../supervise/supervisor.ts";
import { describe } from "../../supervise/state.ts";
import { alive, cmdline, readPidFile, sleep, stopProcess } from "../../supervise/process.ts";

/** The agent's service name under its supervisor: agent.pid, agent.log, agent.supervise.json. */
export const AGENT_SERVICE = "agent";

const HERE = dirname(fileURLToPath(import.meta.url));
/** The daemon's bundle (dist/bin/agent.mjs): its path in a process's argv says the process is our daemon. */
export const DAEMON_MAIN = bundlePath("agent");
/** What daemons started before the bundles ran (`node --import tsx …/main.ts`); still ours to stop. */
const DAEMON_MAIN_TS = join(HERE, "main.ts");
const REPO_ROOT = resolve(HERE, "..", "..", "..");

export interface StartAgentOptions {
  hostNetns: string;
  manifestPath: string;
  nodeName: string;
  runDir: string;
  labels?: Record<string, string>;
  rrClusterId?: string;
  etcdEndpoints?: string[];
  /** How long to wait for status.json to say ready (ms, default 20 000). */
  readyTimeoutMs?: number;
  /** Periodic resync of the daemon (ms, default 5000). */
  resyncMs?: number;
  /** Where BIRD's control socket goes (default: the run dir; a VM host's: a tmpfs inside the VM). */
  socketDir?: string;
  /** The host's underlay routes (the lab's plan), kept in place by the agent. */
  underlayRoutes?: UnderlayRoute[];
}

/** A stopping agent stops BIRD first (BIRD withdraws its routes): SIGKILL only after this long (ms). */
const STOP_GRACE_MS = 8000;
/** BIRD withdraws its routes on SIGTERM: SIGKILL only after this long (ms). */
const BIRD_STOP_GRACE_MS = 5000;

/** The daemon's pid when it is alive and really our daemon (not a recycled pid). */
async function daemonPid(runDir: string): Promise<number | null> {
  const pid = await readPidFile(runFiles(runDir).agentPid);
  if (pid === null || !alive(pid)) return null;
  const argv = await cmdline(pid);
  return (argv.includes(DAEMON_MAIN) || argv.includes(DAEMON_MAIN_TS)) && argv.includes(runDir) ? pid : null;
}

export async function agentRunning(runDir: string): Promise<boolean> {
  return (await daemonPid(resolve(runDir))) !== null;
}

/** Whether the agent's supervisor runs (the agent is up, or down and about to be started again). */
export async function agentSupervised(runDir: string): Promise<boolean> {
  return (await supervisorOf(resolve(runDir), AGENT_SERVICE)) !== null;
}

async function tail(file: string, lines = 30): Promise<string> {
  try {
    return (await readFile(file, "utf8")).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * Starts a supervisor for a new agent (stopping an unsupervised one first) and returns the launch token
 * the agent's status will carry.
 */
async function superviseAgent(o: StartAgentOptions, runDir: string): Promise<string> {
  const files = runFiles(runDir);
  // An agent of before supervisors (or whose supervisor was killed) is stopped, not adopted: only a
  // supervised agent is started again when it dies.
  if ((await daemonPid(runDir)) !== null) await stopAgent(runDir);
  await rm(files.status, { force: true });
  const launch = randomBytes(8).toString("hex");
  await writeFile(files.agentLaunch, `${launch}\n`);
  // In a VM host's namespace, through a local vm-exec that stands for the daemon (see src/vm/guest/).
  const argv = inNetns(assertNetnsName(o.hostNetns), [
    ...(await entryArgv("agent")),
    ...daemonArgv({
      manifest: resolve(o.manifestPath),
      nodeName: o.nodeName,
      runDir,
      labels: o.labels ?? {},
      ...(o.rrClusterId ? { rrClusterId: o.rrClusterId } : {}),
      ...(o.etcdEndpoints ? { etcdEndpoints: o.etcdEndpoints } : {}),
      ...(o.resyncMs ? { resyncMs: o.resyncMs } : {}),
      ...(o.socketDir ? { socketDir: o.socketDir } : {}),
      ...(o.underlayRoutes?.length ? { underlayRoutes: o.underlayRoutes } : {}),
    }),
  ]); // prettier-ignore
  await startSupervised(
    {
      name: AGENT_SERVICE,
      runDir,
      argv,
      cwd: REPO_ROOT,
      statusJson: files.status,
      graceMs: STOP_GRACE_MS,
      // main.ts exits 3 when it refuses this kernel (preflight): starting it again cannot help.
      finalExitCodes: [3],
    },
    { ...process.env, [LAUNCH_ENV]: launch },
  );
  return launch;
}

/**
 * Starts the agent in `hostNetns` and waits for status.json to say ready. On error or timeout it stops
 * what it started and throws with the tail of agent.log. Already running for this run dir: returns it.
 */
export async function startAgent(o: StartAgentOptions): Promise<{ pid: number; status: AgentStatus }> {
  const runDir = resolve(o.runDir);
  const files = runFiles(runDir);
  await mkdir(runDir, { recursive: true });
  // A supervisor already runs: its agent is up, or dead and about to start again; wait for it.
  const fresh = !(await supervisorOf(runDir, AGENT_SERVICE));
  const launch = fresh
    ? await superviseAgent(o, runDir)
    : (await readFile(files.agentLaunch, "utf8").catch(() => "")).trim();

  const until = Date.now() + (o.readyTimeoutMs ?? 20_000);
  for (;;) {
    const st = await readStatus(runDir);
    const pid = await daemonPid(runDir);
    const sup = await supervisorOf(runDir, AGENT_SERVICE);
    const ours = statusOf(st, pid ?? -1, launch || undefined);
    if (ours && pid !== null && st.phase === "ready") return { pid, status: st };
    // Dying while starting fails a fresh start; an agent its supervisor restarts is waited for.
    const failed =
      ours && (st.phase === "error" || (fresh && st.phase === "restarting"))
        ? (st.error ?? st.phase)
        : !sup
          ? "its supervisor is gone"
          : fresh && sup.status.state !== "running"
            ? describe(sup.status)
            : null;
    if (failed || Date.now() > until) {
      await stopAgent(runDir);
      const why = failed ?? `not ready after ${o.readyTimeoutMs ?? 20_000} ms`;
      throw new Error(
        `agent ${o.nodeName} in ${o.hostNetns}: ${why}\n--- ${files.agentLog} (tail) ---\n${await tail(files.agentLog)}`,
      );
    }
    await sleep(50);
  }
}

/**
 * SIGTERM the daemon's process group (the daemon stops its BIRD, which withdraws its routes), wait,
 * SIGKILL what is left; then the BIRD named by bird.pid if it still runs (BIRD has its own session, and
 * an adopted one belongs to no agent). Idempotent.
 */
export async function stopAgent(runDir: string, graceMs = STOP_GRACE_MS): Promise<void> {
  runDir = resolve(runDir);
  const files = runFiles(runDir);
  // The supervisor SIGTERMs the agent's group (SIGKILL after its grace) and exits; what follows is for
  // an agent without one.
  await stopSupervised(runDir, AGENT_SERVICE, graceMs + 3000);
  const ours = await daemonPid(runDir);
  if (ours !== null) await stopProcess(ours, { graceMs });
  // A VM host's BIRD ran in the VM (bird.pid names a guest pid): its agent stopped it, and no process
  // here has its socket in its command line, so runningBird finds none.
  const socket = birdSocketOf(runDir, await readStatus(runDir));
  const bird = await runningBird({ pidFile: files.birdPid, socket });
  if (bird !== null) await stopProcess(bird, { graceMs: BIRD_STOP_GRACE_MS });
  await rm(files.agentPid, { force: true });
  await rm(files.agentLaunch, { force: true });
  await rm(superviseFiles(runDir, AGENT_SERVICE).status, { force: true });
}

/** `calicoctl node status`: Calico's table from `birdc show protocols` on the run dir's socket. */
export async function nodeStatus(runDir: string): Promise<string> {
  const files = runFiles(resolve(runDir));
  const socket = birdSocketOf(resolve(runDir), await readStatus(resolve(runDir)));
  const bird = await runningBird({ pidFile: files.birdPid, socket });
  if (bird === null) return formatNodeStatus(false, []);
  return formatNodeStatus(await agentRunning(runDir), parseBirdProtocols(await showProtocols(socket)));
}
