// scripts/vm-run's command line. Pure.
import type { AccelChoice } from "./runner.ts";

export const USAGE = `usage: scripts/vm-run [options] -- <command> [args...]
Boots Debian's kernel under QEMU with the host's root read-only (tmpfs overlay on top), the shared folder
read-write at its own path, runs <command> as root there and exits with its exit code.
  --share DIR          folder shared read-write (default: the git root of the current directory)
  --mem SIZE           guest memory, e.g. 2048M or 2G (default 2048M)
  --cpus N             virtual CPUs (default 2)
  --timeout SECONDS    kill the VM after this long and exit 124 (default 1800)
  --kvm | --tcg        force the accelerator (default: KVM when /dev/kvm works, else TCG)
  --env K=V | --env K  set a variable inside (K alone: copy the host's value); repeatable
  --module NAME        load one more kernel module at boot; repeatable
  --kernel-package P   linux-image-amd64 (default) or a linux-image-<release> package
  --tap IFNAME,MAC     attach a virtio NIC to host tap IFNAME; repeatable
  --exec-port PORT     a management NIC: 127.0.0.1:PORT (in vm-run's namespace) reaches the guest
                       exec channel's port 7000 (run dist/bin/vm-guest.mjs inside to serve it)
  --hostname NAME      the VM's hostname (default vm-run)
  --tmpfs PATH         a fresh tmpfs at PATH inside (not shared back; 9p cannot hold unix sockets); repeatable
  --timing             print the boot-to-command time on stderr
  -v, --verbose        print the kernel, initramfs and QEMU command line on stderr
Exit: the command's own code; 124 on timeout; 125 when the VM fails before the command reports.`;

export interface CliOptions {
  argv: string[];
  share?: string;
  memory: string;
  cpus: number;
  timeoutS: number;
  accel: AccelChoice;
  env: string[];
  modules: string[];
  kernelPackage?: string;
  taps: { ifname: string; mac: string }[];
  execPort?: number;
  hostname?: string;
  tmpfs: string[];
  timing: boolean;
  verbose: boolean;
  help: boolean;
}

export function parseCli(args: readonly string[]): CliOptions {
  const o: CliOptions = {
    argv: [],
    memory: "2048M",
    cpus: 2,
    timeoutS: 1800,
    accel: "auto",
    env: [],
    modules: [],
    taps: [],
    tmpfs: [],
    timing: false,
    verbose: false,
    help: false,
  };
  let i = 0;
  const value = (flag: string): string => {
    const v = args[++i];
    if (v === undefined) throw new Error(`${flag} needs a value`);
    return v;
  };
  const positive = (flag: string, v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < 1) throw new Error(`${flag} needs a positive whole number, got "${v}"`);
    return n;
  };
  for (; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--") {
      o.argv = args.slice(i + 1) as string[];
      break;
    }
    switch (a) {
      case "--share":
        o.share = value(a);
        break;
      case "--mem":
        o.memory = value(a);
        if (!/^\d+[MG]$/.test(o.memory))
          throw new Error(`--mem needs a size like 2048M or 2G, got "${o.memory}"`);
        break;
      case "--cpus":
        o.cpus = positive(a, value(a));
        break;
      case "--timeout":
        o.timeoutS = positive(a, value(a));
        break;
      case "--kvm":
      case "--tcg":
        o.accel = a.slice(2) as AccelChoice;
        break;
      case "--env":
        o.env.push(value(a));
        break;
      case "--module":
        o.modules.push(value(a));
        break;
      case "--kernel-package":
        o.kernelPackage = value(a);
        break;
      case "--tap": {
        const [ifname, mac, ...rest] = value(a).split(",");
        if (!ifname || !mac || rest.length) throw new Error(`--tap needs IFNAME,MAC`);
        o.taps.push({ ifname, mac: mac.toLowerCase() });
        break;
      }
      case "--exec-port": {
        const port = Number(value(a));
        if (!Number.isInteger(port) || port < 1024 || port > 65535)
          throw new Error(`--exec-port needs a port number (1024-65535)`);
        o.execPort = port;
        break;
      }
      case "--hostname":
        o.hostname = value(a);
        break;
      case "--tmpfs":
        o.tmpfs.push(value(a));
        break;
      case "--timing":
        o.timing = true;
        break;
      case "-v":
      case "--verbose":
        o.verbose = true;
        break;
      case "-h":
      case "--help":
        o.help = true;
        return o;
      default:
        throw new Error(`unknown option "${a}" (the command goes after --)`);
    }
  }
  if (o.argv.length === 0) throw new Error("no command: put it after --");
  return o;
}
