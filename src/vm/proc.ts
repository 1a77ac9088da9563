// Running a program for the VM tooling: argv arrays only (no shell), with a working directory.
import { execFile } from "node:child_process";

export class ProcError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    const detail = stderr.trim().split("\n").slice(-5).join("\n  ");
    super(`command failed (exit ${exitCode ?? "signal"}): ${argv.join(" ")}${detail ? `\n  ${detail}` : ""}`);
    this.name = "ProcError";
  }
}

export interface ProcOptions {
  cwd?: string;
  timeoutMs?: number;
}

/** Runs argv; resolves with stdout, rejects with ProcError when it fails. */
export function runProc(argv: readonly string[], opts: ProcOptions = {}): Promise<string> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new Error("runProc: empty argv"));
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: opts.cwd, timeout: opts.timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (err, stdout, stderr) => {
        if (err) {
          const code = typeof err.code === "number" ? err.code : null;
          reject(new ProcError(argv, code, stderr || err.message));
        } else resolve(stdout);
      },
    );
  });
}
