// One supervisor process per long-running lab service, as runit's runsv is for each of calico-node's
// daemons: it starts the service in its own process group, starts it again with backoff when it dies
// (state.ts), and keeps <runDir>/<name>.supervise.json saying the truth: running with its pid, or
// restarting since when and why. When the service dies, what is left of its process group is killed
// (a killed agent's `ip -o monitor` child is never orphaned); a daemon in a session of its own (the
// agent's BIRD) is not in that group and lives on. SIGTERM to the supervisor stops the service (SIGTERM
// to its group, SIGKILL after the grace time) and then the supervisor itself.
//
// The supervisor process is a static Go program (native/main.go, built into dist/bin/supervise by
// src/build/go-programs.ts; control.ts starts it): ~3.5 MB of memory where a Node.js one took ~46 MB, for
// ~100 supervisors in a 50-host lab. What it runs and the files it keeps are described here; the rules it
// follows (the backoff, the state file's transitions) are state.ts's, and args.ts is its command line.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Backoff, SuperviseStatus } from "./state.ts";

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
