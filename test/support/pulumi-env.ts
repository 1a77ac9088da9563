// The same offline Pulumi environment the scripts use, read from scripts/lib/env.sh (one source of truth).
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function labEnv(): Record<string, string> {
  const out = execFileSync("bash", ["-c", ". scripts/lib/env.sh && env -0"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
  });
  const env: Record<string, string> = {};
  for (const entry of out.split("\0")) {
    const i = entry.indexOf("=");
    if (i > 0) env[entry.slice(0, i)] = entry.slice(i + 1);
  }
  return env;
}
