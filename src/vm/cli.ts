// scripts/vm-run: run a command inside a VM with Debian's kernel. See USAGE and docs/vm.md.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { parseCli, USAGE } from "./cli-args.ts";
import { DEFAULT_MODULES } from "./modules.ts";
import { EXIT_VM_FAILED, runVm } from "./runner.ts";

function gitRoot(): string {
  const r = spawnSync("git", ["rev-parse", "--show-toplevel"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error("not inside a git work tree: pass --share DIR");
  return r.stdout.trim();
}

async function main(): Promise<number> {
  let opts;
  try {
    opts = parseCli(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`vm-run: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const r = await runVm({
    argv: opts.argv,
    share: opts.share ?? gitRoot(),
    memory: opts.memory,
    cpus: opts.cpus,
    timeoutS: opts.timeoutS,
    accel: opts.accel,
    env: opts.env,
    modules: [...DEFAULT_MODULES, ...opts.modules],
    kernelPackage: opts.kernelPackage,
    taps: opts.taps,
    ...(opts.execPort !== undefined ? { execPort: opts.execPort } : {}),
    hostname: opts.hostname,
    tmpfs: opts.tmpfs.map((d) => resolve(d)),
    verbose: opts.verbose,
  });
  if (opts.timing) {
    const boot = r.bootMs === undefined ? "never" : `${(r.bootMs / 1000).toFixed(2)} s`;
    process.stderr.write(
      `vm-run: ${r.accel}: boot-to-command ${boot}, total ${(r.totalMs / 1000).toFixed(2)} s\n`,
    );
  }
  return r.exitCode;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`vm-run: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(EXIT_VM_FAILED);
  },
);
