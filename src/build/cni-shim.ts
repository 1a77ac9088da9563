// The lab's CNI executable (src/agent/cni/shim/main.go): a static Go program that hands each call to the
// host's agent over its socket. Built with the local Go toolchain into dist/bin/calico-cni, offline (no
// module downloads: it has no dependencies), and rebuilt when its sources or the Go version change; a
// stamp next to it records what it was built from.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./bundles.ts";

export const CNI_SHIM_SRC = join(REPO_ROOT, "src", "agent", "cni", "shim");
export const CNI_SHIM = join(REPO_ROOT, "dist", "bin", "calico-cni");
const STAMP = `${CNI_SHIM}.stamp`;

const GO_ENV = { CGO_ENABLED: "0", GOTOOLCHAIN: "local", GOPROXY: "off", GOFLAGS: "" };

function goVersion(): string {
  const r = spawnSync("go", ["env", "GOVERSION"], { encoding: "utf8", env: { ...process.env, ...GO_ENV } });
  if (r.error || r.status !== 0)
    throw new Error(
      `building the lab's CNI executable needs Go (bash scripts/setup installs what the lab needs): ` +
        `go env GOVERSION: ${r.error?.message ?? r.stderr.trim()}`,
    );
  return r.stdout.trim();
}

/** What the executable is built from: its sources and the Go version. */
function sourceStamp(go: string): string {
  const h = createHash("sha256").update(go);
  for (const f of ["go.mod", "main.go"]) h.update(f).update(readFileSync(join(CNI_SHIM_SRC, f)));
  return h.digest("hex");
}

/** Why the executable must be (re)built, or null when it is current. */
export function cniShimStale(): string | null {
  if (!existsSync(CNI_SHIM)) return "never built";
  const stamp = existsSync(STAMP) ? readFileSync(STAMP, "utf8").trim() : "";
  return stamp === sourceStamp(goVersion()) ? null : "its sources or Go changed";
}

let building: Promise<string> | null = null;

/** The executable's path, built first when missing or stale (callers in one process share one build). */
export async function ensureCniShim(): Promise<string> {
  if (cniShimStale() === null) return CNI_SHIM;
  building ??= Promise.resolve()
    .then(() => {
      const stamp = sourceStamp(goVersion());
      mkdirSync(join(REPO_ROOT, "dist", "bin"), { recursive: true });
      const tmp = `${CNI_SHIM}.${process.pid}.tmp`;
      const r = spawnSync(
        "go",
        ["build", "-C", CNI_SHIM_SRC, "-trimpath", "-ldflags", "-s -w -buildid=", "-o", tmp, "."],
        { encoding: "utf8", env: { ...process.env, ...GO_ENV } },
      );
      if (r.status !== 0)
        throw new Error(
          `go build in ${CNI_SHIM_SRC} failed:\n${(r.stderr || r.stdout || String(r.error)).trim()}`,
        );
      renameSync(tmp, CNI_SHIM);
      writeFileSync(STAMP, stamp + "\n");
      return CNI_SHIM;
    })
    .finally(() => {
      building = null;
    });
  return building;
}
