// The daemon's side of status.json: what it holds of its status, each change written as a whole file
// (renamed into place) and in order, BIRD's pid and restarts as they are at the time of the write, and
// the reconcile counters at most once a second.
import { LAUNCH_ENV, writeStatus, type AgentStatus } from "./status.ts";

export interface ReconcileCounters {
  passes: number;
  unchangedPasses: number;
  ignoredEvents: number;
  snapshotReads: number;
}

export interface StatusSources {
  runDir: string;
  node: string;
  birdSocket: string;
  /** BIRD as it is now: its pid (null: not running) and how often it was started again. */
  bird: () => { pid: number | null; restarts: number };
  counters: () => ReconcileCounters;
  log: (m: string) => void;
}

export class StatusWriter {
  private status: Omit<AgentStatus, "updatedAt">;
  private writes: Promise<void> = Promise.resolve();
  private countersTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly src: StatusSources) {
    this.status = {
      phase: "starting",
      node: src.node,
      pid: process.pid,
      birdSocket: src.birdSocket,
      ...(process.env[LAUNCH_ENV] ? { launch: process.env[LAUNCH_ENV] } : {}),
    };
  }

  get current(): Readonly<Omit<AgentStatus, "updatedAt">> {
    return this.status;
  }

  /** Changes the status held without writing it (the next publish writes it). */
  note(patch: Partial<AgentStatus>): void {
    this.status = { ...this.status, ...patch };
  }

  /** Updates status.json; writes are serialized (each one a whole file, renamed into place). */
  publish(patch: Partial<AgentStatus>): Promise<void> {
    this.status = { ...this.status, ...patch };
    const bird = this.src.bird();
    if (bird.pid !== null) this.status.birdPid = bird.pid;
    else delete this.status.birdPid;
    this.status.birdRestarts = bird.restarts;
    const snapshot = { ...this.status };
    this.writes = this.writes
      .then(() => writeStatus(this.src.runDir, snapshot))
      .catch((e: Error) => this.src.log(`status.json: ${e.message}`));
    return this.writes;
  }

  /** The reconcile counters into status.json, at most once a second. */
  publishCounters(): void {
    if (this.countersTimer || this.closed) return;
    this.countersTimer = setTimeout(() => {
      this.countersTimer = null;
      if (this.closed) return;
      void this.publish({ reconcile: this.src.counters() });
    }, 1000);
  }

  /** No more counters (the daemon stops); explicit publishes still write. */
  close(): void {
    this.closed = true;
    if (this.countersTimer) clearTimeout(this.countersTimer);
    this.countersTimer = null;
  }
}
