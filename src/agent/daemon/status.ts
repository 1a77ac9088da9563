// <run-dir>/status.json: what the agent is doing, written atomically (write + rename) so a reader never
// sees half a file. <run-dir>/ layout: agent.pid, agent.log, agent.supervise.json (its supervisor's
// state), status.json, bird.conf, bird.ctl, bird.pid, bird.log.
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * starting → ready; unready: running, but the datastore is unreachable (what it programmed stays, BIRD
 * keeps routing; ready again once etcd answers); error: it could not start; restarting: written by the
 * agent's supervisor when the agent died (`error` says how), until the new agent writes "starting";
 * stopped: stopped on purpose.
 */
export type AgentPhase = "starting" | "ready" | "unready" | "error" | "restarting" | "stopped";

export interface AgentStatus {
  phase: AgentPhase;
  node: string;
  address?: string;
  ipipTunnelAddr?: string;
  vxlanTunnelAddr?: string;
  birdPid?: number;
  birdRestarts?: number;
  pid: number;
  error?: string;
  /** What the node runs without, because the kernel lacks it (crosssubnet without ipip). */
  degraded?: string[];
  /**
   * The reconcile loop's work: passes applied, passes that found the datastore's inputs unchanged (an
   * event that changed nothing), datastore events dropped because they cannot change a pass, and full
   * reads of the snapshot from etcd (a pass woken by an event reads the agent's watch-fed copy instead).
   */
  reconcile?: { passes: number; unchangedPasses: number; ignoredEvents: number; snapshotReads: number };
  /**
   * The token its launcher gave it (env CALICO_LAB_AGENT_LAUNCH): how the launcher knows this status is
   * its agent's when the pid is not the one it spawned (a VM host's agent runs behind a local vm-exec).
   */
  launch?: string;
  /** BIRD's control socket (in the namespace the agent runs in; a VM host's is inside the VM). */
  birdSocket?: string;
  /** Last reconcile error while ready (the loop keeps retrying). */
  lastError?: string;
  updatedAt: string;
}

/** The agent's files; BIRD's control socket in `socketDir` when given (see DaemonArgs.socketDir). */
export const runFiles = (runDir: string, socketDir = runDir) => ({
  status: join(runDir, "status.json"),
  agentPid: join(runDir, "agent.pid"),
  agentLaunch: join(runDir, "agent.launch"),
  agentLog: join(runDir, "agent.log"),
  birdConf: join(runDir, "bird.conf"),
  birdSocket: join(socketDir, "bird.ctl"),
  /** Where the lab's CNI executable hands its calls to the agent (cni/server.ts). */
  cniSocket: join(socketDir, "cni.sock"),
  birdPid: join(runDir, "bird.pid"),
  birdLog: join(runDir, "bird.log"),
});

export async function writeStatus(runDir: string, s: Omit<AgentStatus, "updatedAt">): Promise<void> {
  const file = runFiles(runDir).status;
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify({ ...s, updatedAt: new Date().toISOString() }, null, 2) + "\n");
  await rename(tmp, file);
}

export async function readStatus(runDir: string): Promise<AgentStatus | null> {
  try {
    return JSON.parse(await readFile(runFiles(runDir).status, "utf8")) as AgentStatus;
  } catch {
    return null;
  }
}

/** BIRD's control socket of the agent with this run dir: as its status says, else <runDir>/bird.ctl. */
export function birdSocketOf(runDir: string, status: Pick<AgentStatus, "birdSocket"> | null): string {
  return status?.birdSocket ?? runFiles(runDir).birdSocket;
}

export const LAUNCH_ENV = "CALICO_LAB_AGENT_LAUNCH";

/** Whether a status is that of the agent started as `pid` with launch token `launch`. Pure. */
export function statusOf(st: AgentStatus | null, pid: number, launch?: string): st is AgentStatus {
  return st !== null && (st.pid === pid || (launch !== undefined && st.launch === launch));
}
