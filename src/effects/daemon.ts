// Long-running lab processes (etcd, BIRD for the outside router, echo servers) started inside a namespace,
// detached from whoever started them (Pulumi's provider process ends; the lab goes on), with their pid
// and log in a run folder, so that delete can find and stop them later. Every start has its stop.
// A supervised daemon runs under its own supervisor process (src/supervise/), which starts it again with
// backoff when it dies; <name>.pid is then the daemon's current pid, <name>.supervise.json its state.
import { mkdir, readFile, rm } from "node:fs/promises";
import { assertNetnsName } from "./names.ts";
import { inNetns } from "./exec.ts";
import { hostOfNetns, nsenterIn } from "./host-exec.ts";
import { startSupervised, stopSupervised, supervisorOf } from "../supervise/control.ts";
import { superviseFiles } from "../supervise/supervisor.ts";
import { describe, type SuperviseStatus } from "../supervise/state.ts";
import { alive, readPidFile, sleep, spawnDetached, stopProcess, writePidFile } from "../supervise/process.ts";

export interface DaemonSpec {
  /** Short name: files are <runDir>/<name>.pid and <name>.log. */
  name: string;
  netns: string;
  argv: readonly string[];
  runDir: string;
  env?: Record<string, string>;
  /** Resolves true once the daemon serves; polled until the deadline. */
  ready: () => Promise<boolean>;
  deadlineMs?: number;
  /** Run under a supervisor that restarts it when it dies (default: started once, as QEMU is). */
  supervised?: boolean;
  /** A supervised daemon's stop: SIGTERM, SIGKILL after this long (ms; 0: SIGKILL at once). Default 3000. */
  stopGraceMs?: number;
  /**
   * How it enters its namespace: `ip netns exec` (default: a private mount namespace, /sys of the
   * namespace) or `nsenter` (the host's mounts, shared: containerd and kubelet).
   */
  enter?: "netns-exec" | "nsenter";
}

/** The argv that runs the daemon in its namespace, on the host that namespace is on. */
function daemonArgv(spec: DaemonSpec): string[] {
  const netns = assertNetnsName(spec.netns);
  return spec.enter === "nsenter"
    ? nsenterIn(hostOfNetns(netns), netns, spec.argv)
    : inNetns(netns, spec.argv);
}

// A daemon's files are a supervised service's, whether or not it runs supervised.
const pidFile = (runDir: string, name: string) => superviseFiles(runDir, name).pid;
const logFile = (runDir: string, name: string) => superviseFiles(runDir, name).log;

/** The daemon's pid while it is alive (not a zombie). */
export async function daemonPid(runDir: string, name: string): Promise<number | undefined> {
  const pid = await readPidFile(pidFile(runDir, name));
  return pid !== null && alive(pid) ? pid : undefined;
}

async function logTail(runDir: string, name: string, lines = 8): Promise<string> {
  try {
    return (await readFile(logFile(runDir, name), "utf8")).trim().split("\n").slice(-lines).join("\n  ");
  } catch {
    return "(no log)";
  }
}

/** A supervised daemon's state while its supervisor runs (null: no supervisor, so nothing restarts it). */
export async function daemonSupervision(runDir: string, name: string): Promise<SuperviseStatus | null> {
  return (await supervisorOf(runDir, name))?.status ?? null;
}

async function startSupervisedDaemon(spec: DaemonSpec): Promise<number> {
  const argv = daemonArgv(spec);
  if (!(await supervisorOf(spec.runDir, spec.name))) {
    await startSupervised(
      { name: spec.name, runDir: spec.runDir, argv, graceMs: spec.stopGraceMs ?? 3000 },
      { ...process.env, ...spec.env },
    );
  }
  const deadline = spec.deadlineMs ?? 20_000;
  const until = Date.now() + deadline;
  for (;;) {
    const sup = await supervisorOf(spec.runDir, spec.name);
    const pid = await daemonPid(spec.runDir, spec.name);
    const failed = !sup
      ? "its supervisor is gone"
      : sup.status.state !== "running"
        ? describe(sup.status)
        : null;
    if (failed || Date.now() > until) {
      const tail = await logTail(spec.runDir, spec.name);
      await stopDaemon(spec.runDir, spec.name, 0);
      throw new Error(
        failed
          ? `${spec.name} exited while starting in ${spec.netns}: ${argv.join(" ")} (${failed})\n  ${tail}`
          : `${spec.name} in ${spec.netns} was not ready after ${deadline} ms\n  ${tail}`,
      );
    }
    if (pid && (await spec.ready().catch(() => false))) return pid;
    await sleep(25);
  }
}

/** Starts the daemon in its own process group and waits until it is ready; on failure stops it and throws. */
export async function startDaemon(spec: DaemonSpec): Promise<number> {
  await mkdir(spec.runDir, { recursive: true });
  if (spec.supervised) return startSupervisedDaemon(spec);
  const existing = await daemonPid(spec.runDir, spec.name);
  if (existing) return existing;
  // In a VM host's namespace, through a local vm-exec that stands for the daemon (see src/vm/guest/).
  const argv = daemonArgv(spec);
  const child = spawnDetached(argv, {
    logFile: logFile(spec.runDir, spec.name),
    env: { ...process.env, ...spec.env },
  });
  const pid = child.pid;
  if (!pid) throw new Error(`could not start ${spec.name}: ${argv.join(" ")}`);
  child.unref();
  await writePidFile(pidFile(spec.runDir, spec.name), pid);
  const until = Date.now() + (spec.deadlineMs ?? 20_000);
  for (;;) {
    if (!alive(pid)) {
      const tail = await logTail(spec.runDir, spec.name);
      await rm(pidFile(spec.runDir, spec.name), { force: true });
      throw new Error(`${spec.name} exited while starting in ${spec.netns}: ${argv.join(" ")}\n  ${tail}`);
    }
    if (await spec.ready().catch(() => false)) return pid;
    if (Date.now() > until) {
      const tail = await logTail(spec.runDir, spec.name);
      await stopDaemon(spec.runDir, spec.name);
      throw new Error(
        `${spec.name} in ${spec.netns} was not ready after ${spec.deadlineMs ?? 20_000} ms\n  ${tail}`,
      );
    }
    // etcd is healthy ~110 ms after start, an echo server sooner: poll finely (each probe is one small command).
    await sleep(25);
  }
}

/**
 * SIGTERM to the daemon's process group, SIGKILL after `graceMs` (0: SIGKILL at once, for a daemon whose
 * state is thrown away with it); waits until it is gone, then removes its pid file and log.
 * Nothing running is not an error.
 */
export async function stopDaemon(runDir: string, name: string, graceMs = 3000): Promise<void> {
  // Supervised: the supervisor stops the daemon with the grace it was given, then exits.
  if (await stopSupervised(runDir, name, graceMs + 3000)) graceMs = 0;
  const pid = await daemonPid(runDir, name);
  // Gone before its files are removed (etcd writing into a data dir being deleted fails the delete).
  if (pid) await stopProcess(pid, { graceMs });
  await rm(pidFile(runDir, name), { force: true });
  await rm(logFile(runDir, name), { force: true });
  await rm(superviseFiles(runDir, name).status, { force: true });
}
