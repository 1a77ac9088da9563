// The process primitives every daemon of the lab is run with, in one place: spawning a daemon detached
// (its own process group and session, stdout+stderr appended to its log), its pid file, telling a live
// process from a zombie or a recycled pid, and stopping it (SIGTERM, SIGKILL after a grace time, waiting
// until it is gone). The service supervisor (supervisor.ts), its control from the root namespace
// (control.ts), the agent's launcher (agent/daemon/launch.ts), the once-started daemons
// (effects/daemon.ts) and the agent's BIRD (agent/bird/supervisor.ts) all use these.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Alive, and not a zombie: a detached process whose parent is gone waits for PID 1 to reap it, which
 * some containers' init does only every couple of seconds. Synchronous on purpose: callers poll it.
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.charAt(stat.lastIndexOf(")") + 2);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** State of a pid: alive, a zombie (dead, not reaped) or gone. */
export async function processState(pid: number): Promise<"alive" | "zombie" | "gone"> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const state = stat.charAt(stat.lastIndexOf(")") + 2);
    return state === "Z" || state === "X" ? "zombie" : "alive";
  } catch {
    return "gone";
  }
}

/** The process's argv ([] when it is gone). */
export async function cmdline(pid: number): Promise<string[]> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

/** The pid a pid file names (null: no file, or not a pid of a process other than init). */
export async function readPidFile(file: string): Promise<number | null> {
  try {
    const pid = Number((await readFile(file, "utf8")).trim());
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

export function writePidFile(file: string, pid: number): Promise<void> {
  return writeFile(file, `${pid}\n`);
}

/** A signal to the process group `pid` leads; false when there is no such group. */
export function signalGroup(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, sig);
    return true;
  } catch {
    return false;
  }
}

/**
 * A signal to the group `pid` leads, or to `pid` alone when it leads none (a daemon started before it
 * had a group of its own). Only for a pid known to be ours and alive: a dead one may be recycled.
 */
export function signalDaemon(pid: number, sig: NodeJS.Signals): void {
  if (signalGroup(pid, sig)) return;
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

/** Waits until `pid` is not alive (gone or a zombie); false when it still is after `ms`. */
export async function waitGone(pid: number, ms: number, pollMs = 20): Promise<boolean> {
  const until = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() >= until) return false;
    await sleep(pollMs);
  }
  return true;
}

export interface StopOptions {
  /** SIGTERM, then SIGKILL after this long (ms; 0: SIGKILL at once). */
  graceMs: number;
  /** The whole process group `pid` leads (default), or the process alone. */
  group?: boolean;
}

/**
 * Stops a live daemon: SIGTERM, SIGKILL after the grace time, then waits (2 s at most) until it is gone,
 * so that what follows (removing its files, its data dir) does not race it.
 */
export async function stopProcess(pid: number, o: StopOptions): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    if (o.group ?? true) signalDaemon(pid, sig);
    else {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    }
  };
  if (o.graceMs > 0) {
    signal("SIGTERM");
    if (await waitGone(pid, o.graceMs)) return;
  }
  signal("SIGKILL");
  await waitGone(pid, 2000, 10);
}

export interface DetachedSpawn {
  /** stdout and stderr are appended here. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Spawns `argv` detached: its own session and process group (a signal to whoever started it does not
 * reach it), stdin closed, stdout and stderr appended to the log. The caller decides whether to wait
 * for it (a supervisor) or `unref()` it (a launcher whose process ends before the daemon).
 */
export function spawnDetached(argv: readonly string[], o: DetachedSpawn): ChildProcess {
  const fd = openSync(o.logFile, "a");
  try {
    return spawn(argv[0]!, argv.slice(1), {
      detached: true,
      stdio: ["ignore", fd, fd],
      ...(o.env ? { env: o.env } : {}),
      ...(o.cwd ? { cwd: o.cwd } : {}),
    });
  } finally {
    closeSync(fd);
  }
}
