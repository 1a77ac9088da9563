// What a supervisor knows about its service, and how it decides when to start it again: the backoff of
// runit's runsv, made explicit. A service that dies is started again after a delay that starts small
// (0.1 s) and doubles with each quick death up to a ceiling (5 s); one that ran healthy for a while
// (10 s) starts again at once. Pure: the supervisor process (supervisor.ts) applies it.

export interface Backoff {
  /** Delay before the first restart after a death (ms). */
  initialMs: number;
  /** The ceiling the delay doubles up to (ms). */
  maxMs: number;
  /** A run at least this long was healthy: the next delay is `initialMs` again (ms). */
  healthyMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 100, maxMs: 5000, healthyMs: 10_000 };

/**
 * The delay before starting again a service that ran `ranMs` and died, given the delay used before
 * its last start (null: it was the first start, or the delay was reset).
 */
export function restartDelay(policy: Backoff, previousMs: number | null, ranMs: number): number {
  if (previousMs === null || ranMs >= policy.healthyMs) return policy.initialMs;
  return Math.min(Math.max(previousMs * 2, policy.initialMs), policy.maxMs);
}

/**
 * running: the service's process is alive (not necessarily serving yet: its own readiness is its own);
 * restarting: it died and starts again after `restartInMs`; stopped: the supervisor stopped it and exits.
 */
export type ServiceState = "running" | "restarting" | "stopped";

export interface ServiceExit {
  code: number | null;
  signal: string | null;
  /** How long that run lasted (ms). */
  ranMs: number;
  at: string;
}

/** <runDir>/<name>.supervise.json. */
export interface SuperviseStatus {
  name: string;
  /** The supervisor's own pid: stopping the service is a SIGTERM to it. */
  supervisorPid: number;
  state: ServiceState;
  /** The service's pid while running. */
  pid?: number;
  /** Starts so far (1 once started, +1 per restart). */
  starts: number;
  lastExit?: ServiceExit;
  /** While restarting: the delay chosen (ms). */
  restartInMs?: number;
  /** When the current state began. */
  since: string;
}

export function initialStatus(name: string, supervisorPid: number, now: Date): SuperviseStatus {
  return { name, supervisorPid, state: "restarting", starts: 0, restartInMs: 0, since: now.toISOString() };
}

export function started(s: SuperviseStatus, pid: number, now: Date): SuperviseStatus {
  const { restartInMs: _r, ...rest } = s;
  return { ...rest, state: "running", pid, starts: s.starts + 1, since: now.toISOString() };
}

export function exited(
  s: SuperviseStatus,
  exit: ServiceExit,
  restartInMs: number,
  now: Date,
): SuperviseStatus {
  const { pid: _p, ...rest } = s;
  return { ...rest, state: "restarting", lastExit: exit, restartInMs, since: now.toISOString() };
}

export function stopped(s: SuperviseStatus, now: Date, exit?: ServiceExit): SuperviseStatus {
  const { pid: _p, restartInMs: _r, ...rest } = s;
  return { ...rest, state: "stopped", ...(exit ? { lastExit: exit } : {}), since: now.toISOString() };
}

/** One line for a log or a failed check: "etcd restarting (exited on SIGKILL after 12.3 s; next start in 0.4 s)". */
export function describe(s: SuperviseStatus): string {
  const why = s.lastExit
    ? s.lastExit.signal
      ? `killed by ${s.lastExit.signal}`
      : `exited with code ${s.lastExit.code}`
    : "";
  const ran = s.lastExit ? ` after ${(s.lastExit.ranMs / 1000).toFixed(1)} s` : "";
  if (s.state === "running") return `${s.name} running (pid ${s.pid}, start ${s.starts})`;
  if (s.state === "stopped") return `${s.name} stopped${why ? ` (${why}${ran})` : ""}`;
  return `${s.name} restarting (${why || "not started yet"}${ran}; next start in ${((s.restartInMs ?? 0) / 1000).toFixed(1)} s)`;
}
