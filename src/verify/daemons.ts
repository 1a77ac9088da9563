// Are the lab's daemons alive and ready, as `kubectl get pods -n kube-system` would show calico-node and
// etcd? Read from the processes themselves: the pid is alive and not a zombie, its argv is ours, BIRD
// answers on its control socket, etcd answers a real request (snapshot.ts). The agent's status.json is
// read only for what it claims (phase, pids), and a claim about a dead pid is a failure.
// The texts are pure (daemonText, golden-tested); the probes read /proc and run birdc.
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { inNetns, tryRun } from "../effects/exec.ts";
import { scaledMs } from "../lab/timeouts.ts";

export type ProcessState =
  | { state: "running"; pid: number }
  | { state: "gone"; pid: number }
  | { state: "zombie"; pid: number }
  | { state: "stopped"; pid: number }
  | { state: "not-ours"; pid: number; argv: string }
  | { state: "no-pid"; file: string };

/** `/proc/<pid>/stat`'s state letter and `/proc/<pid>/cmdline` → what the process is. Pure. */
export function classifyProcess(
  pid: number,
  stat: string | undefined,
  cmdline: string | undefined,
  ours: (argv: string[]) => boolean,
): ProcessState {
  if (stat === undefined) return { state: "gone", pid };
  const letter = stat.charAt(stat.lastIndexOf(")") + 2);
  if (letter === "Z" || letter === "X") return { state: "zombie", pid };
  // Stopped by a signal (SIGSTOP, a debugger): alive, but it answers nothing.
  if (letter === "T" || letter === "t") return { state: "stopped", pid };
  const argv = (cmdline ?? "").split("\0").filter(Boolean);
  return ours(argv) ? { state: "running", pid } : { state: "not-ours", pid, argv: argv.join(" ") };
}

const readOr = (file: string) => readFile(file, "utf8").catch(() => undefined);

/** The process a pid file names, as it is now. */
export async function probeProcess(
  pidFile: string,
  ours: (argv: string[]) => boolean,
): Promise<ProcessState> {
  const text = await readOr(pidFile);
  const pid = Number(text?.trim());
  if (!Number.isInteger(pid) || pid <= 1) return { state: "no-pid", file: pidFile };
  return probePid(pid, ours);
}

export async function probePid(pid: number, ours: (argv: string[]) => boolean): Promise<ProcessState> {
  return classifyProcess(pid, await readOr(`/proc/${pid}/stat`), await readOr(`/proc/${pid}/cmdline`), ours);
}

/** "calico-node on worker-1 is not running (pid 1234 gone)" and the like. Pure. */
export function processText(what: string, p: ProcessState): string {
  switch (p.state) {
    case "running":
      return `${what} is running (pid ${p.pid})`;
    case "gone":
      return `${what} is not running (pid ${p.pid} gone)`;
    case "zombie":
      return `${what} is not running (pid ${p.pid} is a zombie: it exited and was not reaped)`;
    case "stopped":
      return `${what} is not running (pid ${p.pid} is stopped by a signal; SIGCONT resumes it)`;
    case "not-ours":
      return `${what} is not running (pid ${p.pid} is another program now: ${p.argv.slice(0, 80) || "no argv"})`;
    case "no-pid":
      return `${what} is not running (no pid in ${p.file})`;
  }
}

/** What a supervisor (if one runs) says in `<name>.supervise.json`: its restart count, when it has one. */
export async function supervisorRestarts(file: string): Promise<number | undefined> {
  try {
    const j = JSON.parse((await readOr(file)) ?? "") as { restarts?: unknown };
    return typeof j.restarts === "number" ? j.restarts : undefined;
  } catch {
    return undefined;
  }
}

export const restartsText = (n: number | undefined) =>
  n === undefined ? "" : `; its supervisor restarted it ${n} time${n === 1 ? "" : "s"}`;

/** The fields of the agent's status.json this reads (its claim, checked against the processes). */
export interface AgentClaim {
  phase?: string;
  pid?: number;
  error?: string;
  lastError?: string;
  birdSocket?: string;
  degraded?: string[];
}

export async function readAgentClaim(hostRunDir: string): Promise<AgentClaim | undefined> {
  try {
    return JSON.parse((await readOr(join(hostRunDir, "status.json"))) ?? "") as AgentClaim;
  } catch {
    return undefined;
  }
}

/** BIRD's control socket of a host's agent: as its status says, else <runDir>/bird.ctl. */
export const birdSocketOf = (hostRunDir: string, claim: AgentClaim | undefined) =>
  claim?.birdSocket ?? join(hostRunDir, "bird.ctl");

/** The agent's readiness from its claim and its process. Pure: undefined when ready, else why not. */
export function agentNotReady(
  claim: AgentClaim | undefined,
  claimedPid: ProcessState | undefined,
): string | undefined {
  if (!claim) return "it wrote no readable status.json";
  if (claim.phase !== "ready")
    return `its status.json says phase "${claim.phase ?? "?"}"${claim.error ? `: ${claim.error}` : ""}`;
  if (claimedPid && claimedPid.state !== "running")
    return `its status.json says ready for pid ${claimedPid.state === "no-pid" ? "?" : claimedPid.pid}, which is not running`;
  return undefined;
}

/**
 * The agent's process (or whatever stands for it: a supervisor, a VM host's local vm-exec) names the
 * host's run dir in its argv; a recycled pid does not.
 */
export const agentArgv = (hostRunDir: string) => (argv: string[]) =>
  argv.some((a) => a === resolve(hostRunDir) || a.endsWith(`=${resolve(hostRunDir)}`));

export const etcdArgv = (argv: string[]) => argv.some((a) => /(^|\/)etcd$/.test(a));

export const birdArgv = (argv: string[]) => argv.some((a) => /(^|\/)bird$/.test(a));

/** `birdc show status` in the host's namespace: undefined when BIRD answers up and running, else why not. */
export async function birdAnswers(netns: string, socket: string): Promise<string | undefined> {
  const r = await tryRun(inNetns(netns, ["birdc", "-s", socket, "show", "status"]), {
    timeoutMs: scaledMs(5000),
  });
  if (r.exitCode === 0 && /Daemon is up and running/.test(r.stdout)) return undefined;
  const said = (r.stdout + r.stderr).trim().split("\n").filter(Boolean).pop() ?? `exit code ${r.exitCode}`;
  return said;
}
