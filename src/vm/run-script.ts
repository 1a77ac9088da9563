// What the control share carries for one run: vm.env (read by stage 2) and run.sh (the command). Pure.

/** Single-quotes a word for POSIX sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function assertEnvName(name: string): string {
  if (!ENV_NAME.test(name)) throw new Error(`bad environment variable name "${name}"`);
  return name;
}

/** Host variables passed into the VM by default (when set). */
export const PASSTHROUGH_ENV: readonly string[] = [
  "PATH",
  "CI",
  "TERM",
  "LANG",
  "LC_ALL",
  "TZ",
  "UPDATE_GOLDEN",
];

/**
 * The command's environment: HOME=/root, the pass-through variables taken from the host, then --env
 * entries ("K=V", or "K" to copy the host's value), and VM_RUN=1 so code can tell it runs inside the VM.
 */
export function commandEnv(
  hostEnv: Readonly<Record<string, string | undefined>>,
  extra: readonly string[],
): Record<string, string> {
  const env: Record<string, string> = {
    HOME: "/root",
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    TERM: "dumb",
  };
  for (const k of PASSTHROUGH_ENV) {
    const v = hostEnv[k];
    if (v !== undefined) env[k] = v;
  }
  for (const e of extra) {
    const eq = e.indexOf("=");
    if (eq < 0) {
      const v = hostEnv[assertEnvName(e)];
      if (v !== undefined) env[e] = v;
    } else {
      env[assertEnvName(e.slice(0, eq))] = e.slice(eq + 1);
    }
  }
  env.VM_RUN = "1";
  return env;
}

export interface RunSpec {
  argv: readonly string[];
  env: Readonly<Record<string, string>>;
  /** Working directory inside the VM (the shared folder's host path, or below it). */
  cwd: string;
}

export function runScript(spec: RunSpec): string {
  if (spec.argv.length === 0) throw new Error("vm-run: no command given");
  const lines = ["# vm-run: the command, run by stage 2 inside the VM"];
  for (const [k, v] of Object.entries(spec.env)) lines.push(`export ${assertEnvName(k)}=${shQuote(v)}`);
  lines.push(`cd ${shQuote(spec.cwd)} || exit 125`);
  lines.push(`exec ${spec.argv.map(shQuote).join(" ")}`);
  return lines.join("\n") + "\n";
}

/**
 * Folders the guest mounts afresh (stage 1 and 2): a host path below one of them is not the host's inside
 * the VM. The shared folder is mounted over them (its mount point is created), so a path inside the share
 * is seen; any other host path below them is hidden.
 */
export const GUEST_OWN_MOUNTS: readonly string[] = ["/tmp", "/run", "/dev", "/proc", "/sys"];

function below(dir: string, path: string): boolean {
  return path === dir || path.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
}

/**
 * Why the guest would not see host path `path` (the shared folder `share` is mounted at its own path), or
 * undefined when it does. `what` names the path in the message.
 */
export function hiddenInGuest(what: string, path: string, share: string): string | undefined {
  const own = GUEST_OWN_MOUNTS.find((d) => below(d, path));
  if (own === undefined) return undefined;
  if (own === "/proc" || own === "/sys")
    return `${what} ${path} is under ${own}, which the VM has its own of; move it elsewhere`;
  if (below(share, path)) return undefined;
  return `${what} ${path} is under ${own}, which the VM mounts afresh, and outside the shared folder ${share}; share a folder that holds it (--share) or move it`;
}

export interface VmEnv {
  nonce: string;
  share: string;
  kernelRelease: string;
  modulesDir: string;
  hostname: string;
}

export function vmEnvFile(v: VmEnv): string {
  const hidden =
    hiddenInGuest("the shared folder", v.share, v.share) ??
    hiddenInGuest("the kernel's modules folder", v.modulesDir, v.share);
  if (hidden) throw new Error(hidden);
  if (!/^[A-Za-z0-9]+$/.test(v.nonce)) throw new Error(`bad nonce "${v.nonce}"`);
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(v.hostname)) throw new Error(`bad hostname "${v.hostname}"`);
  return [
    `VM_NONCE=${v.nonce}`,
    `VM_SHARE=${shQuote(v.share)}`,
    `VM_KERNEL_RELEASE=${shQuote(v.kernelRelease)}`,
    `VM_MODULES_DIR=${shQuote(v.modulesDir)}`,
    `VM_HOSTNAME=${v.hostname}`,
    "",
  ].join("\n");
}
