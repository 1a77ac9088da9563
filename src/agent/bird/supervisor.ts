// BIRD as a supervised child: `bird -f -R -c <conf> -s <socket>`, restarted with the lab's backoff
// (src/supervise/state.ts) when it dies. `-R` is graceful restart recovery, as calico-node runs BIRD:
// a BIRD started after a crash keeps the kernel routes its predecessor left (`graceful restart` on the
// kernel protocol defers removing stale ones) until its BGP sessions are back and their End-of-RIB
// arrived, and its peers keep its routes meanwhile (they are GR helpers), so forwarding goes on.
// A BIRD left running by a previous agent (the agent was killed, BIRD was not) is adopted rather than
// restarted, so the node's BGP sessions and routes survive an agent restart; an adopted BIRD is watched
// by polling, and replaced by a child of ours when it dies.
import type { ChildProcess } from "node:child_process";
import { rm } from "node:fs/promises";
import { BIRD_BIN, birdConfigure, type BirdcResult } from "./birdc.ts";
import { DEFAULT_BACKOFF, restartDelay } from "../../supervise/state.ts";
import {
  cmdline,
  processState,
  readPidFile,
  sleep,
  spawnDetached,
  stopProcess,
  writePidFile,
} from "../../supervise/process.ts";

// What the routing tests read from here.
export { processState } from "../../supervise/process.ts";

export interface BirdPaths {
  config: string;
  socket: string;
  pidFile: string;
  /** BIRD's own stdout/stderr (appended). */
  logFile: string;
  /** The bird binary (tests use a stand-in). */
  binary?: string;
}

/** The pid in the pid file when that process is a live BIRD using this socket. */
export async function runningBird(paths: Pick<BirdPaths, "pidFile" | "socket">): Promise<number | null> {
  const pid = await readPidFile(paths.pidFile);
  if (pid === null || (await processState(pid)) !== "alive") return null;
  const argv = await cmdline(pid);
  return argv[0]?.endsWith("bird") && argv.includes(paths.socket) ? pid : null;
}

export class BirdSupervisor {
  private child: ChildProcess | null = null;
  private adopted: number | null = null;
  private poll: NodeJS.Timeout | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  /** stop() was called: nothing starts BIRD again. */
  private closed = false;
  /** The delay before the last restart (null: none yet, or reset after a healthy run). */
  private backoffMs: number | null = null;
  private startedAt = 0;
  restarts = 0;

  constructor(
    readonly paths: BirdPaths,
    private readonly log: (m: string) => void,
    /** Called when BIRD started, stopped or died (status.json); `spawned`: a new BIRD read bird.conf. */
    private readonly onChange: (spawned: boolean) => void = () => {},
  ) {}

  get pid(): number | null {
    return this.child?.pid ?? this.adopted;
  }

  get running(): boolean {
    return this.pid !== null;
  }

  /** Starts BIRD, or adopts the one a previous agent left running. Returns "adopted" or "started". */
  async start(): Promise<"adopted" | "started"> {
    if (this.closed) throw new Error("BIRD supervisor closed");
    if (this.running) return "started";
    this.stopping = false;
    const old = await runningBird(this.paths);
    if (old !== null) {
      this.adopted = old;
      this.log(`BIRD already running (pid ${old}, left by a previous agent): adopted`);
      this.poll = setInterval(() => void this.checkAdopted(), 250);
      this.onChange(false);
      return "adopted";
    }
    this.spawnChild();
    return "started";
  }

  private async checkAdopted(): Promise<void> {
    if (this.adopted === null) return;
    if ((await processState(this.adopted)) === "alive") return;
    this.log(`BIRD (adopted pid ${this.adopted}) died`);
    this.adopted = null;
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    this.scheduleRestart();
  }

  private spawnChild(): void {
    // Its own session: a signal to the agent's process group (stopAgent's SIGTERM) does not reach BIRD
    // directly, so BIRD stops only when the agent says so — never mistaken for a crash and restarted
    // in the middle of a shutdown. stopAgent stops it through bird.pid if the agent could not.
    const child = spawnDetached(
      [this.paths.binary ?? BIRD_BIN, "-f", "-R", "-c", this.paths.config, "-s", this.paths.socket],
      { logFile: this.paths.logFile },
    );
    this.child = child;
    this.startedAt = Date.now();
    child.once("error", (e) => this.log(`BIRD could not start: ${e.message}`));
    child.once("exit", (code, signal) => {
      if (this.child === child) this.child = null;
      if (this.stopping) return;
      this.log(`BIRD (pid ${child.pid}) exited (code ${code}, signal ${signal}): restarting`);
      this.scheduleRestart();
    });
    if (child.pid !== undefined) {
      void writePidFile(this.paths.pidFile, child.pid);
      this.log(`BIRD started (pid ${child.pid}): ${this.paths.config}`);
    }
    this.onChange(true);
  }

  private scheduleRestart(): void {
    if (this.stopping || this.restartTimer) return;
    // An adopted BIRD's run began before this agent: count it as healthy.
    const ran = this.startedAt === 0 ? Infinity : Date.now() - this.startedAt;
    const delay = restartDelay(DEFAULT_BACKOFF, this.backoffMs, ran);
    this.backoffMs = delay;
    this.restarts++;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopping && !this.closed && !this.running) this.spawnChild();
    }, delay);
    this.onChange(false);
  }

  /**
   * `birdc configure`; false (with BIRD's message) when BIRD is not up or refused the config. A BIRD
   * started moments ago may not have its control socket yet: connection failures are retried for 3 s.
   */
  async reconfigure(): Promise<BirdcResult> {
    const until = Date.now() + 3000;
    for (;;) {
      if (!this.running) return { ok: false, text: "BIRD is not running" };
      const r = await birdConfigure(this.paths.socket);
      if (r.ok || !/Unable to connect|No such file|Connection refused/i.test(r.text) || Date.now() > until)
        return r;
      await sleep(50);
    }
  }

  /** Stops BIRD for good (the agent is exiting): nothing starts it again. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
  }

  /** Stops BIRD (ours or adopted): SIGTERM, SIGKILL after 5 s; a later start() starts it again. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.poll) clearInterval(this.poll);
    this.restartTimer = this.poll = null;
    const pid = this.pid;
    const child = this.child;
    this.child = null;
    this.adopted = null;
    if (pid === null) return;
    const exited = child
      ? new Promise<void>((r) =>
          child.exitCode !== null || child.signalCode !== null ? r() : child.once("exit", () => r()),
        )
      : null;
    await stopProcess(pid, { graceMs: 5000, group: false });
    if (exited) await Promise.race([exited, sleep(2000)]);
    await rm(this.paths.pidFile, { force: true });
  }
}
