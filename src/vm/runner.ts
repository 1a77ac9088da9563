// Runs one command in a VM: kernel and initramfs from the cache (built on first use), QEMU with the host's
// root read-only under an overlay, the shared folder read-write at its own path, output streamed live and
// the command's exit code returned. Accelerator: KVM when asked for, or in "auto" mode when /dev/kvm opens
// and KVM has not failed on this host before (a failed KVM attempt, noticed before the command starts,
// is remembered in .tools/vm/kvm-broken and the run continues under TCG); TCG otherwise.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { constants, existsSync, openSync, closeSync, realpathSync } from "node:fs";
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { release, tmpdir } from "node:os";
import { dirname, join, relative, isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureInitramfs } from "./build.ts";
import { ConsoleDemux } from "./console.ts";
import { ensureKernel } from "./kernel.ts";
import { DEFAULT_MODULES } from "./modules.ts";
import type { Accel, TapNic } from "./qemu.ts";
import { qemuArgv } from "./qemu.ts";
import { runProc } from "./proc.ts";
import { commandEnv, runScript, vmEnvFile } from "./run-script.ts";

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DEFAULT_CACHE_DIR = join(PROJECT_ROOT, ".tools", "vm");
export const QBOOT = "/usr/share/qemu/qboot.rom";

/** Exit codes of vm-run itself (the command's own code passes through otherwise). */
export const EXIT_TIMEOUT = 124;
export const EXIT_VM_FAILED = 125;

export type AccelChoice = Accel | "auto";

export interface VmRunOptions {
  argv: readonly string[];
  share: string;
  /** Working directory inside the VM; default: the host's cwd when inside the share, else the share. */
  cwd?: string;
  memory?: string;
  cpus?: number;
  timeoutS?: number;
  accel?: AccelChoice;
  env?: readonly string[];
  modules?: readonly string[];
  cacheDir?: string;
  kernelPackage?: string;
  taps?: readonly TapNic[];
  /** A management NIC whose guest exec channel is this port of 127.0.0.1 (in QEMU's namespace). */
  execPort?: number;
  hostname?: string;
  /** Absolute paths inside the VM to cover with a fresh tmpfs (not shared back). */
  tmpfs?: readonly string[];
  verbose?: boolean;
  /** Where the command's output goes (default: process.stdout). */
  output?: (text: string) => void;
  /** vm-run's own messages (default: process.stderr). */
  log?: (line: string) => void;
}

export interface VmRunResult {
  exitCode: number;
  accel: Accel;
  /** Milliseconds from QEMU's start to the command's start (undefined if it never started). */
  bootMs?: number;
  totalMs: number;
}

function kvmUsable(): boolean {
  try {
    const fd = openSync("/dev/kvm", constants.O_RDWR);
    closeSync(fd);
    return true;
  } catch {
    return false;
  }
}

async function qemuVersion(): Promise<string> {
  const out = await runProc(["qemu-system-x86_64", "--version"]).catch(() => {
    throw new Error("qemu-system-x86_64 not found: install Debian's qemu-system-x86 (scripts/setup does)");
  });
  return out.split("\n")[0]?.trim() ?? "unknown";
}

function insideShare(share: string, dir: string): boolean {
  const r = relative(share, dir);
  return r === "" || (!r.startsWith("..") && !isAbsolute(r));
}

interface AttemptResult {
  started: boolean;
  exitCode?: number;
  timedOut: boolean;
  bootMs?: number;
  bootLog: string;
  qemuStderr: string;
  qemuExit: number | null;
}

export async function runVm(opts: VmRunOptions): Promise<VmRunResult> {
  const t0 = Date.now();
  const log = opts.log ?? ((l: string) => process.stderr.write(`vm-run: ${l}\n`));
  const output = opts.output ?? ((t: string) => void process.stdout.write(t));
  const cacheDir = opts.cacheDir ?? DEFAULT_CACHE_DIR;
  const share = realpathSync(opts.share);
  const cwd =
    opts.cwd ?? (insideShare(share, realpathSync(process.cwd())) ? realpathSync(process.cwd()) : share);
  if (share.includes(",")) throw new Error(`the shared folder's path may not contain ',': ${share}`);

  const qv = await qemuVersion();
  const kernel = await ensureKernel({ cacheDir, meta: opts.kernelPackage, log });
  const initrd = await ensureInitramfs(cacheDir, kernel, opts.modules ?? DEFAULT_MODULES);
  if (opts.verbose) log(`kernel ${kernel.release} (${kernel.id}), initramfs ${initrd}, ${qv}`);

  const brokenFile = join(cacheDir, "kvm-broken");
  const hostKey = `${release()} ${qv}`;
  const knownBroken =
    existsSync(brokenFile) && (await readFile(brokenFile, "utf8")).split("\n").includes(hostKey);
  const choice = opts.accel ?? "auto";
  const accels: Accel[] =
    choice === "kvm"
      ? ["kvm"]
      : choice === "tcg"
        ? ["tcg"]
        : kvmUsable() && !knownBroken
          ? ["kvm", "tcg"]
          : ["tcg"];

  const ctl = await mkdtemp(join(tmpdir(), "vm-run-"));
  let child: ReturnType<typeof spawn> | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    // QEMU reaped before vm-run exits: an orphaned zombie would wait for PID 1, which some containers'
    // init reaps only now and then.
    const reaped =
      child && child.exitCode === null && child.signalCode === null
        ? new Promise<void>((r) => child!.once("exit", () => r()))
        : Promise.resolve();
    child?.kill("SIGKILL");
    void reaped
      .then(() => rm(ctl, { recursive: true, force: true }))
      .finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const nonce = randomBytes(8).toString("hex");
    await writeFile(
      join(ctl, "vm.env"),
      vmEnvFile({
        nonce,
        share,
        kernelRelease: kernel.release,
        modulesDir: kernel.modulesDir,
        hostname: opts.hostname ?? "vm-run",
      }),
    );
    for (const d of opts.tmpfs ?? []) {
      if (!isAbsolute(d) || d.includes("\n"))
        throw new Error(`--tmpfs needs an absolute path on one line: ${d}`);
    }
    await writeFile(join(ctl, "tmpfs.list"), (opts.tmpfs ?? []).map((d) => d + "\n").join(""));
    await writeFile(
      join(ctl, "run.sh"),
      runScript({ argv: opts.argv, env: commandEnv(process.env, opts.env ?? []), cwd }),
    );

    for (const [i, accel] of accels.entries()) {
      const fallback = i < accels.length - 1;
      const argv = qemuArgv({
        accel,
        kernel: kernel.vmlinuz,
        initrd,
        memory: opts.memory ?? "2048M",
        cpus: opts.cpus ?? 2,
        share,
        ctl,
        bios: existsSync(QBOOT) ? QBOOT : undefined,
        taps: opts.taps,
        ...(opts.execPort !== undefined ? { execPort: opts.execPort } : {}),
      });
      if (opts.verbose) log(`${accel}: ${argv.join(" ")}`);
      await rm(join(ctl, "exit-code"), { force: true });
      const r = await attempt(argv, nonce, {
        timeoutMs: (opts.timeoutS ?? 1800) * 1000,
        // Under a KVM try with a TCG fallback, give up on KVM when the command has not started in 20 s.
        startDeadlineMs: fallback ? 20_000 : undefined,
        output,
        spawned: (c) => (child = c),
      });
      if (!r.started && fallback) {
        log(`KVM did not boot (${lastLine(r.qemuStderr) || "no start within 20 s"}); using TCG from now on`);
        continue;
      }
      if (r.started && accel === "tcg" && choice === "auto" && accels[0] === "kvm") {
        await appendFile(brokenFile, hostKey + "\n");
      }
      const totalMs = Date.now() - t0;
      if (opts.verbose && r.bootMs !== undefined)
        log(`${accel}: command started ${r.bootMs} ms after QEMU's start`);
      if (r.timedOut) {
        log(`timed out after ${opts.timeoutS ?? 1800} s: QEMU killed`);
        return { exitCode: EXIT_TIMEOUT, accel, bootMs: r.bootMs, totalMs };
      }
      let code = r.exitCode;
      if (code === undefined && r.started) {
        const f = await readFile(join(ctl, "exit-code"), "utf8").catch(() => "");
        if (/^\d+\s*$/.test(f)) code = Number(f);
      }
      if (code === undefined) {
        const why = r.started
          ? "the VM stopped before the command reported its exit code"
          : "the VM did not boot";
        log(`${why} (QEMU exit ${r.qemuExit ?? "signal"})`);
        const tail = (r.bootLog + r.qemuStderr).trim().split("\n").slice(-25).join("\n");
        if (tail) process.stderr.write(`--- console and QEMU messages (last lines) ---\n${tail}\n---\n`);
        return { exitCode: EXIT_VM_FAILED, accel, bootMs: r.bootMs, totalMs };
      }
      return { exitCode: code, accel, bootMs: r.bootMs, totalMs };
    }
    throw new Error("unreachable: no accelerator left");
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await rm(ctl, { recursive: true, force: true });
  }
}

function lastLine(s: string): string {
  return s.trim().split("\n").at(-1) ?? "";
}

function attempt(
  argv: string[],
  nonce: string,
  o: {
    timeoutMs: number;
    startDeadlineMs?: number;
    output: (t: string) => void;
    spawned: (c: ReturnType<typeof spawn>) => void;
  },
): Promise<AttemptResult> {
  const t0 = Date.now();
  let bootMs: number | undefined;
  let timedOut = false;
  let qemuStderr = "";
  const [file, ...args] = argv;
  const child = spawn(file ?? "qemu-system-x86_64", args, { stdio: ["ignore", "pipe", "pipe"] });
  o.spawned(child);
  let afterExit: NodeJS.Timeout | undefined;
  const demux = new ConsoleDemux(nonce, {
    output: o.output,
    started: () => (bootMs = Date.now() - t0),
    // The command is done: stage 2 syncs and powers off; don't wait long for it.
    exited: () => (afterExit = setTimeout(() => child.kill("SIGKILL"), 15_000)),
  });
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (d: string) => demux.push(d));
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d: string) => (qemuStderr += d));
  const overall = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, o.timeoutMs);
  const startDeadline =
    o.startDeadlineMs === undefined
      ? undefined
      : setTimeout(() => {
          if (demux.phase === "boot") child.kill("SIGKILL");
        }, o.startDeadlineMs);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(overall);
      if (startDeadline) clearTimeout(startDeadline);
      if (afterExit) clearTimeout(afterExit);
      demux.end();
      resolve({
        started: demux.phase !== "boot",
        exitCode: demux.exitCode,
        timedOut: timedOut && demux.phase !== "done",
        bootMs,
        bootLog: demux.boot,
        qemuStderr,
        qemuExit: code,
      });
    });
  });
}
