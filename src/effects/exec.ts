// Running programs: always an argument array, never a shell string built from config values (spawn with
// no shell), and one error type that says what ran and what it printed. Plain child_process rather than zx:
// every CNI call and agent loads this module, and zx alone added ~80 ms and ~25 MB to each process start.
import { spawn } from "node:child_process";
import { execIn, hostOfNetns, type HostExec } from "./host-exec.ts";

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

/** Runs argv and returns its output, whatever the exit code (-1 when a signal ended it, e.g. the timeout's). */
export function tryRun(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  if (argv.length === 0) return Promise.reject(new Error("tryRun: empty argv"));
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      env: options.env ? { ...process.env, ...options.env } : process.env,
      stdio: ["pipe", "pipe", "pipe"],
      ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    // A program that exits without reading its input closes the pipe: not an error of ours.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
    // A program that cannot start (not installed) is a failed run too, as with a non-zero exit.
    let startError = "";
    child.once("error", (e) => (startError = `${argv[0]}: ${e.message}\n`));
    child.once("close", (code) =>
      resolve({
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8") + startError,
        exitCode: startError ? -1 : (code ?? -1),
      }),
    );
  });
}

/** Runs argv; throws CommandError when it exits non-zero. Returns stdout. */
export async function run(argv: readonly string[], options: RunOptions = {}): Promise<string> {
  const r = await tryRun(argv, options);
  if (r.exitCode !== 0) throw new CommandError(argv, r.exitCode, r.stdout, r.stderr);
  return r.stdout;
}

/**
 * argv run inside the named network namespace (`ip netns exec`) of its host: this kernel's, or, for a
 * namespace of a VM host (host-exec.ts), inside the VM through its guest exec channel.
 */
export function inNetns(
  netns: string,
  argv: readonly string[],
  host: HostExec = hostOfNetns(netns),
): string[] {
  return execIn(host, netns, argv);
}
