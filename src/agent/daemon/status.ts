// <run-dir>/status.json: what the agent is doing, written atomically (write + rename) so a reader never
// sees half a file. <run-dir>/ layout: agent.pid, agent.log, status.json, bird.conf, bird.ctl, bird.pid, bird.log.
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

export type AgentPhase = "starting" | "ready" | "error" | "stopped";

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
  /** Last reconcile error while ready (the loop keeps retrying). */
  lastError?: string;
  updatedAt: string;
}

export const runFiles = (runDir: string) => ({
  status: join(runDir, "status.json"),
  agentPid: join(runDir, "agent.pid"),
  agentLog: join(runDir, "agent.log"),
  birdConf: join(runDir, "bird.conf"),
  birdSocket: join(runDir, "bird.ctl"),
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
