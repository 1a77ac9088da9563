// The supervisor's command line, both ways: what a launcher passes (superviseArgv) and what the
// supervisor reads (parseSuperviseArgs). Pure.
import type { ServiceSpec } from "./supervisor.ts";

export function superviseArgv(spec: Omit<ServiceSpec, "backoff">): string[] {
  return [
    "--name", spec.name,
    "--run-dir", spec.runDir,
    "--grace-ms", String(spec.graceMs),
    ...(spec.statusJson ? ["--status-json", spec.statusJson] : []),
    ...(spec.cwd ? ["--cwd", spec.cwd] : []),
    ...(spec.finalExitCodes?.length ? ["--final-exit-codes", spec.finalExitCodes.join(",")] : []),
    "--",
    ...spec.argv,
  ]; // prettier-ignore
}

export function parseSuperviseArgs(argv: readonly string[]): ServiceSpec {
  const sep = argv.indexOf("--");
  if (sep < 0 || sep === argv.length - 1)
    throw new Error("usage: supervise --name N --run-dir D [options] -- argv…");
  const opts = new Map<string, string>();
  const head = argv.slice(0, sep);
  for (let i = 0; i < head.length; i += 2) {
    const key = head[i]!;
    const value = head[i + 1];
    if (!key.startsWith("--") || value === undefined) throw new Error(`supervise: bad option ${key}`);
    opts.set(key.slice(2), value);
  }
  const known = new Set(["name", "run-dir", "grace-ms", "status-json", "cwd", "final-exit-codes"]);
  for (const k of opts.keys()) if (!known.has(k)) throw new Error(`supervise: unknown option --${k}`);
  const name = opts.get("name");
  const runDir = opts.get("run-dir");
  if (!name || !runDir) throw new Error("supervise: --name and --run-dir are required");
  const grace = Number(opts.get("grace-ms") ?? 3000);
  if (!Number.isInteger(grace) || grace < 0) throw new Error(`supervise: --grace-ms ${opts.get("grace-ms")}`);
  const statusJson = opts.get("status-json");
  const cwd = opts.get("cwd");
  const finals = opts.get("final-exit-codes");
  const finalExitCodes = finals ? finals.split(",").map(Number) : [];
  if (finalExitCodes.some((c) => !Number.isInteger(c) || c < 0 || c > 255))
    throw new Error(`supervise: --final-exit-codes ${finals}`);
  return {
    name,
    runDir,
    graceMs: grace,
    argv: argv.slice(sep + 1),
    ...(statusJson ? { statusJson } : {}),
    ...(cwd ? { cwd } : {}),
    ...(finalExitCodes.length ? { finalExitCodes } : {}),
  };
}
