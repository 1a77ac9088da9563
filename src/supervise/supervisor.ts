// One supervisor process per long-running lab service, as runit's runsv is for each of calico-node's
// daemons: it starts the service in its own process group, starts it again with backoff when it dies
// (state.ts), and keeps <runDir>/<name>.supervise.json saying the truth: running with its pid, or
// restarting since when and why. When the service dies, what is left of its process group is killed
// (a killed agent's `ip -o monitor` child is never orphaned); a daemon in a session of its own (the
// agent's BIRD) is not in that group and lives on. SIGTERM to the supervisor stops the service (SIGTERM
// to its group, SIGKILL after the grace time) and then the supervisor itself.
import type { ChildProcess } from "node:child_process";
import { closeSync, openSync, writeSync } from "node:fs";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  DEFAULT_BACKOFF,
  describe,
  exited,
  initialStatus,
  restartDelay,
  started,
  stopped,
  type Backoff,
  type ServiceExit,
  type SuperviseStatus,
} from "./state.ts";
import { signalGroup, sleep, spawnDetached, writePidFile } from "./process.ts";

export interface ServiceSpec {
  /** Short name: <runDir>/<name>.supervise.json, <name>.pid (the service's pid), <name>.log. */
  name: string;
  /** The service's argv (already wrapped to run in its namespace). */
  argv: readonly string[];
  runDir: string;
  cwd?: string;
  /**
   * A JSON status file the service keeps itself ({"phase": …}): when the service dies the supervisor
   * sets its phase to "restarting" (or "stopped") and says why in `error`, so that no reader takes a
   * dead service's last word ("ready") for the truth.
   */
  statusJson?: string;
  /** On stop: SIGTERM to the service's process group, SIGKILL after this long (ms; 0: SIGKILL at once). */
  graceMs: number;
  /**
   * Exit codes that mean "starting again cannot help" (the agent's 3: it refuses this kernel): the
   * service is left stopped, as systemd's RestartPreventExitStatus, and the supervisor ends.
   */
  finalExitCodes?: readonly number[];
  backoff?: Backoff;
}

export const superviseFiles = (runDir: string, name: string) => ({
  status: join(runDir, `${name}.supervise.json`),
  pid: join(runDir, `${name}.pid`),
  log: join(runDir, `${name}.log`),
});

export async function readSuperviseStatus(runDir: string, name: string): Promise<SuperviseStatus | null> {
  try {
    return JSON.parse(await readFile(superviseFiles(runDir, name).status, "utf8")) as SuperviseStatus;
  } catch {
    return null;
  }
}

async function writeJson(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + "\n");
  await rename(tmp, file);
}

export class Supervisor {
  private child: ChildProcess | null = null;
  private startedAt = 0;
  private delay: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  private status: SuperviseStatus;
  private writes: Promise<void> = Promise.resolve();
  private readonly files: ReturnType<typeof superviseFiles>;
  private readonly backoff: Backoff;
  /** Resolves when the current child has exited (and its group was cleaned up). */
  private childGone: Promise<void> = Promise.resolve();

  constructor(
    readonly spec: ServiceSpec,
    /** The supervisor has nothing left to do (the service exited with a final code). */
    private readonly onFinal: () => void = () => {},
  ) {
    this.files = superviseFiles(spec.runDir, spec.name);
    this.backoff = spec.backoff ?? DEFAULT_BACKOFF;
    this.status = initialStatus(spec.name, process.pid, new Date());
  }

  /** A line of the supervisor's own in the service's log. */
  log(message: string): void {
    try {
      const fd = openSync(this.files.log, "a");
      writeSync(fd, `${new Date().toISOString()} supervise ${this.spec.name}: ${message}\n`);
      closeSync(fd);
    } catch {
      /* the run folder is being removed */
    }
  }

  private publish(s: SuperviseStatus): Promise<void> {
    this.status = s;
    this.writes = this.writes.then(() => writeJson(this.files.status, s)).catch(() => undefined);
    return this.writes;
  }

  /** The service died or was stopped: its status file must not keep saying "ready". */
  private async markService(phase: "restarting" | "stopped"): Promise<void> {
    const file = this.spec.statusJson;
    if (!file) return;
    try {
      const old = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
      // The service's own last word on why it failed stays: "error" and "stopped" are not "ready".
      if (old["phase"] === "error" || old["phase"] === "stopped") return;
      await writeJson(file, {
        ...old,
        phase,
        error: describe(this.status),
        updatedAt: new Date().toISOString(),
      });
    } catch {
      /* never written (died before its first word) or removed with the run folder */
    }
  }

  get current(): SuperviseStatus {
    return this.status;
  }

  /** Starts the service (and keeps it running until stop()). */
  async start(): Promise<void> {
    await this.publish(this.status);
    this.spawnChild();
  }

  private spawnChild(): void {
    if (this.stopping) return;
    const child = spawnDetached(this.spec.argv, {
      logFile: this.files.log,
      ...(this.spec.cwd ? { cwd: this.spec.cwd } : {}),
    });
    this.child = child;
    this.startedAt = Date.now();
    let done: () => void = () => {};
    this.childGone = new Promise<void>((r) => (done = r));
    let ended = false;
    const onEnd = (code: number | null, signal: string | null) => {
      if (ended) return;
      ended = true;
      if (this.child === child) this.child = null;
      // What the service left in its group (children it did not reap) goes with it.
      if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
      void this.afterExit({
        code,
        signal,
        ranMs: Date.now() - this.startedAt,
        at: new Date().toISOString(),
      }).finally(done);
    };
    child.once("error", (e) => {
      this.log(`could not start ${this.spec.argv[0]}: ${e.message}`);
      onEnd(null, null);
    });
    child.once("exit", (code, signal) => onEnd(code, signal));
    if (child.pid !== undefined) {
      void this.publish(started(this.status, child.pid, new Date()));
      this.writes = this.writes.then(() => writePidFile(this.files.pid, child.pid!)).catch(() => undefined);
      if (this.status.starts > 1) this.log(`started again (pid ${child.pid}, start ${this.status.starts})`);
    }
  }

  private async afterExit(exit: ServiceExit): Promise<void> {
    const how = exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const final = exit.code !== null && (this.spec.finalExitCodes ?? []).includes(exit.code);
    if (this.stopping || final) {
      await this.publish(stopped(this.status, new Date(), exit));
      await this.markService("stopped");
      if (final && !this.stopping) {
        this.log(`${how}: a final exit code, not starting it again`);
        await rm(this.files.pid, { force: true });
        this.onFinal();
      }
      return;
    }
    this.delay = restartDelay(this.backoff, this.delay, exit.ranMs);
    await this.publish(exited(this.status, exit, this.delay, new Date()));
    await this.markService("restarting");
    this.log(`${how} after ${(exit.ranMs / 1000).toFixed(1)} s: starting again in ${this.delay} ms`);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.spawnChild();
    }, this.delay);
  }

  /** Stops the service for good: SIGTERM to its group, SIGKILL after the grace time; waits for it. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const child = this.child;
    if (child?.pid !== undefined) {
      const gone = this.childGone;
      if (this.spec.graceMs > 0) {
        signalGroup(child.pid, "SIGTERM");
        await Promise.race([gone, sleep(this.spec.graceMs)]);
      }
      signalGroup(child.pid, "SIGKILL");
      await Promise.race([gone, sleep(2000)]);
    } else {
      await this.publish(stopped(this.status, new Date()));
      await this.markService("stopped");
    }
    await this.writes;
    await rm(this.files.pid, { force: true });
  }
}
