// Starting, finding and stopping a service's supervisor from the root namespace (what providers call).
// The supervisor (dist/bin/supervise, a static Go program: src/supervise/native) runs detached (its own
// session): Pulumi's provider process ends, the lab goes on.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { REPO_ROOT } from "../build/bundles.ts";
import { ensureGoProgram, goProgramPath } from "../build/go-programs.ts";
import { superviseArgv } from "./args.ts";
import { readSuperviseStatus, superviseFiles, type ServiceSpec } from "./supervisor.ts";
import type { SuperviseStatus } from "./state.ts";
import { alive, cmdline, sleep, spawnDetached, stopProcess } from "./process.ts";
import { scaledMs } from "../lab/timeouts.ts";

/**
 * The supervisor's script when it was a Node.js program (`node dist/bin/supervise.mjs …`): labs started
 * before the Go supervisor still run those, and must still be found and stopped.
 */
const LEGACY_SUPERVISE = join(REPO_ROOT, "dist", "bin", "supervise.mjs");

/** Pure: is this command line a supervisor's (the Go one, or a Node.js one of before) of `name` in `runDir`? */
export function isSupervisorArgv(argv: readonly string[], runDir: string, name: string): boolean {
  const program = argv[0] === goProgramPath("supervise") || argv.includes(LEGACY_SUPERVISE);
  return program && argv.includes(runDir) && argv.includes(name);
}

/** The supervisor of `name` in `runDir` when it is alive (and really that supervisor, not a recycled pid). */
export async function supervisorOf(
  runDir: string,
  name: string,
): Promise<{ pid: number; status: SuperviseStatus } | null> {
  const st = await readSuperviseStatus(runDir, name);
  if (!st || !alive(st.supervisorPid)) return null;
  if (!isSupervisorArgv(await cmdline(st.supervisorPid), runDir, name)) return null;
  return { pid: st.supervisorPid, status: st };
}

/** Starts a supervisor for the service; resolves once it runs the service's first start. */
export async function startSupervised(
  spec: Omit<ServiceSpec, "backoff">,
  env?: NodeJS.ProcessEnv,
): Promise<number> {
  await mkdir(spec.runDir, { recursive: true });
  const argv = [await ensureGoProgram("supervise"), ...superviseArgv(spec)];
  const child = spawnDetached(argv, {
    logFile: superviseFiles(spec.runDir, spec.name).log,
    env: env ?? process.env,
  });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start the supervisor of ${spec.name}: ${argv.join(" ")}`);
  // Any process takes longer to start in a VM under TCG: the wait scales like the lab's others.
  const limitMs = scaledMs(10_000);
  const until = Date.now() + limitMs;
  for (;;) {
    const st = await readSuperviseStatus(spec.runDir, spec.name);
    if (st?.supervisorPid === pid && st.starts > 0) return pid;
    if (!alive(pid)) throw new Error(`the supervisor of ${spec.name} exited at start: ${argv.join(" ")}`);
    if (Date.now() > until)
      throw new Error(`the supervisor of ${spec.name} did not start it within ${limitMs / 1000} s`);
    await sleep(10);
  }
}

/**
 * Stops the service through its supervisor (SIGTERM; the supervisor stops the service within its grace
 * time and exits) and waits until both are gone; SIGKILL to the supervisor after `waitMs`.
 * Nothing running is not an error. Returns whether a supervisor was found.
 */
export async function stopSupervised(runDir: string, name: string, waitMs: number): Promise<boolean> {
  const sup = await supervisorOf(runDir, name);
  if (!sup) return false;
  // The supervisor alone, not its group: it stops its service itself, within the service's grace time.
  await stopProcess(sup.pid, { graceMs: waitMs, group: false });
  return true;
}
