// The lab's Go programs: small static executables where a Node.js process would cost too much for what
// it does. calico-cni (src/agent/cni/shim) hands each CNI call to the host's agent over its socket;
// supervise (src/supervise/native) is the supervisor of every long-running lab service (~100 in a 50-host
// lab: a Node.js one was ~46 MB and 0.1-0.2 s of CPU each); echo-server (src/lab/echo) is the pods' HTTP
// echo server (a Node.js one took ~0.25 s to start and ~45 MB a pod). Each is built with the local Go toolchain into
// dist/bin/<name>, offline (no module downloads: they have no dependencies) and static (CGO_ENABLED=0: it
// runs in a VM that shares the project folder too), and rebuilt when its sources or the Go version change;
// a stamp next to it records what it was built from.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LAB_OUT_DIR, REPO_ROOT } from "./freshness.mjs";

/** Each Go program of the lab: its source folder (a main package with a go.mod of its own). */
export const GO_PROGRAMS = {
  "calico-cni": "src/agent/cni/shim",
  supervise: "src/supervise/native",
  "echo-server": "src/lab/echo",
} as const;
export type GoProgramName = keyof typeof GO_PROGRAMS;

/** Beside the bundles (freshness.mjs). */
const BIN_DIR = LAB_OUT_DIR;
export const goProgramSrc = (name: GoProgramName) => join(REPO_ROOT, GO_PROGRAMS[name]);
/** dist/bin/<name>: where the program is built, and the argv[0] it runs with. */
export const goProgramPath = (name: GoProgramName) => join(BIN_DIR, name);
const stampPath = (name: GoProgramName) => `${goProgramPath(name)}.stamp`;

const GO_ENV = { CGO_ENABLED: "0", GOTOOLCHAIN: "local", GOPROXY: "off", GOFLAGS: "" };

// The toolchain does not change under a running process: asked once (`go env` is ~10 ms, seconds in a VM).
let goVersionOnce: string | undefined;
function goVersion(name: GoProgramName): string {
  if (goVersionOnce !== undefined) return goVersionOnce;
  const r = spawnSync("go", ["env", "GOVERSION"], { encoding: "utf8", env: { ...process.env, ...GO_ENV } });
  if (r.error || r.status !== 0)
    throw new Error(
      `building the lab's ${name} executable needs Go (bash scripts/setup installs what the lab needs): ` +
        `go env GOVERSION: ${r.error?.message ?? r.stderr.trim()}`,
    );
  return (goVersionOnce = r.stdout.trim());
}

/** The files a program is built from: go.mod and its non-test .go files (tests do not change the binary). */
function sourceFiles(name: GoProgramName): string[] {
  const go = readdirSync(goProgramSrc(name))
    .filter((f) => f.endsWith(".go") && !f.endsWith("_test.go"))
    .sort();
  return ["go.mod", ...go];
}

/** What the executable is built from: its sources and the Go version. */
function sourceStamp(name: GoProgramName, go: string): string {
  const h = createHash("sha256").update(go);
  for (const f of sourceFiles(name)) h.update(f).update(readFileSync(join(goProgramSrc(name), f)));
  return h.digest("hex");
}

/** Why the executable must be (re)built, or null when it is current. */
export function goProgramStale(name: GoProgramName): string | null {
  if (!existsSync(goProgramPath(name))) return "never built";
  const stamp = existsSync(stampPath(name)) ? readFileSync(stampPath(name), "utf8").trim() : "";
  return stamp === sourceStamp(name, goVersion(name)) ? null : "its sources or Go changed";
}

function build(name: GoProgramName): string {
  const src = goProgramSrc(name);
  const out = goProgramPath(name);
  const stamp = sourceStamp(name, goVersion(name));
  mkdirSync(BIN_DIR, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync(
    "go",
    ["build", "-C", src, "-trimpath", "-ldflags", "-s -w -buildid=", "-o", tmp, "."],
    {
      encoding: "utf8",
      env: { ...process.env, ...GO_ENV },
    },
  );
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`go build in ${src} failed:\n${(r.stderr || r.stdout || String(r.error)).trim()}`);
  }
  // A rename: a process starting the program meanwhile runs the old one or the new one, never half of one.
  renameSync(tmp, out);
  writeFileSync(stampPath(name), stamp + "\n");
  return out;
}

const building = new Map<GoProgramName, Promise<string>>();

/**
 * The executable's path, built first when missing or stale (`force`: whatever its state); callers in one
 * process share one build.
 */
export async function ensureGoProgram(name: GoProgramName, o: { force?: boolean } = {}): Promise<string> {
  if (!o.force && goProgramStale(name) === null) return goProgramPath(name);
  let p = building.get(name);
  if (!p) {
    p = Promise.resolve()
      .then(() => build(name))
      .finally(() => building.delete(name));
    building.set(name, p);
  }
  return p;
}
