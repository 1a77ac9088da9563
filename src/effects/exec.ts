// Running programs: always an argument array, never a shell string built from config values.
// zx quotes every interpolated argument; we add one error type that says what ran and what it printed.
import { $, ProcessOutput } from "zx";

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    const detail = (stderr || stdout).trim().split("\n").slice(-5).join("\n  ");
    super(`command failed (exit ${exitCode ?? "signal"}): ${argv.join(" ")}${detail ? `\n  ${detail}` : ""}`);
    this.name = "CommandError";
  }
}

export interface RunOptions {
  /** Text written to the command's standard input. */
  input?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Give up after this many milliseconds. */
  timeoutMs?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const quiet = $({ quiet: true, nothrow: true });

/** Runs argv and returns its output, whatever the exit code. */
export async function tryRun(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  if (argv.length === 0) throw new Error("tryRun: empty argv");
  const p = quiet({
    input: options.input,
    env: options.env ? { ...process.env, ...options.env } : process.env,
    timeout: options.timeoutMs,
  })`${argv}`;
  const out: ProcessOutput = await p;
  return { stdout: out.stdout, stderr: out.stderr, exitCode: out.exitCode ?? -1 };
}

/** Runs argv; throws CommandError when it exits non-zero. Returns stdout. */
export async function run(argv: readonly string[], options: RunOptions = {}): Promise<string> {
  const r = await tryRun(argv, options);
  if (r.exitCode !== 0) throw new CommandError(argv, r.exitCode, r.stdout, r.stderr);
  return r.stdout;
}

/** argv run inside the named network namespace (`ip netns exec`). */
export function inNetns(netns: string, argv: readonly string[]): string[] {
  return ["ip", "netns", "exec", netns, ...argv];
}
