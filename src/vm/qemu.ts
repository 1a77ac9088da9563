// The QEMU command line for one VM. Pure.
// No network to the outside: -nodefaults drops QEMU's default user-mode NIC and -nic none says so again;
// the only NICs are the tap devices asked for (attached to the lab's own switch namespace by the caller)
// and, for a VM host, a restricted management NIC that carries the guest exec channel and nothing else.
import { TAGS } from "./initramfs.ts";
import { GUEST_EXEC_PORT, GUEST_MGMT_ADDRESS, MGMT_MAC } from "./guest/protocol.ts";

export type Accel = "kvm" | "tcg";

export interface TapNic {
  /** Host tap device name (created by the caller, or by QEMU when it does not exist). */
  ifname: string;
  mac: string;
}

export interface QemuSpec {
  qemu?: string;
  accel: Accel;
  kernel: string;
  initrd: string;
  memory: string;
  cpus: number;
  /** Host folder shared read-write at the same path inside the VM. */
  share: string;
  /** Host folder for the per-run control files (read-write). */
  ctl: string;
  /** Firmware (qboot.rom boots faster than SeaBIOS); absent: QEMU's default. */
  bios?: string;
  taps?: readonly TapNic[];
  /**
   * A management NIC (QEMU user-mode networking, restrict=on: the guest reaches nothing through it) with
   * this port of 127.0.0.1, in QEMU's own namespace, forwarded to the guest exec channel.
   */
  execPort?: number;
  extraAppend?: readonly string[];
}

/** Kernel command line: serial console, quiet, power off on panic (with -no-reboot) and no slow probes. */
export function kernelAppend(extra: readonly string[] = []): string {
  return [
    "console=ttyS0",
    "quiet",
    "panic=-1",
    "rdinit=/init",
    "8250.nr_uarts=1",
    "i8042.noaux",
    "i8042.nomux",
    "i8042.nopnp",
    "i8042.dumbkbd",
    "tsc=reliable",
    "no_timer_check",
    "random.trust_cpu=on",
    ...extra,
  ].join(" ");
}

const MEMORY = /^\d+[MG]$/;
const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

function fsdev(id: string, path: string, readonly: boolean): string[] {
  if (path.includes(","))
    throw new Error(`vm: a shared path may not contain ',' (QEMU option syntax): ${path}`);
  const ro = readonly ? ",readonly=on" : "";
  return [
    "-fsdev",
    `local,id=${id},path=${path},security_model=none,multidevs=remap${ro}`,
    "-device",
    `virtio-9p-pci,fsdev=${id},mount_tag=${id}`,
  ];
}

export function qemuArgv(spec: QemuSpec): string[] {
  if (!MEMORY.test(spec.memory))
    throw new Error(`vm: memory must look like 2048M or 2G, got "${spec.memory}"`);
  if (!Number.isInteger(spec.cpus) || spec.cpus < 1 || spec.cpus > 64)
    throw new Error(`vm: bad cpu count ${spec.cpus}`);
  const argv = [
    spec.qemu ?? "qemu-system-x86_64",
    "-name",
    "vm-run",
    "-machine",
    "pc",
    // Multi-threaded TCG made node segfault at random inside the guest (several runs in ten with 2 vCPUs,
    // none in four with one): TCG runs the vCPUs on one host thread.
    "-accel",
    spec.accel === "kvm" ? "kvm" : "tcg,thread=single",
    "-cpu",
    // TCG: a real CPU model without AVX. "max" advertises AVX/AVX2, which QEMU 7.2 emulates imperfectly:
    // node (V8) then dies with SIGILL or wasm faults inside the VM.
    spec.accel === "kvm" ? "host" : "Nehalem",
    "-m",
    spec.memory,
    "-smp",
    String(spec.cpus),
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-nic",
    "none",
    "-chardev",
    "stdio,id=console,signal=off",
    "-serial",
    "chardev:console",
    "-no-reboot",
  ];
  if (spec.bios) argv.push("-bios", spec.bios);
  argv.push("-kernel", spec.kernel, "-initrd", spec.initrd, "-append", kernelAppend(spec.extraAppend));
  argv.push(
    ...fsdev(TAGS.root, "/", true),
    ...fsdev(TAGS.share, spec.share, false),
    ...fsdev(TAGS.ctl, spec.ctl, false),
  );
  argv.push("-device", "virtio-rng-pci");
  (spec.taps ?? []).forEach((t, i) => {
    if (!IFNAME.test(t.ifname)) throw new Error(`vm: bad tap name "${t.ifname}"`);
    if (!MAC.test(t.mac)) throw new Error(`vm: bad MAC "${t.mac}"`);
    argv.push(
      "-netdev",
      `tap,id=net${i},ifname=${t.ifname},script=no,downscript=no`,
      "-device",
      `virtio-net-pci,netdev=net${i},mac=${t.mac}`,
    );
  });
  if (spec.execPort !== undefined) {
    if (!Number.isInteger(spec.execPort) || spec.execPort < 1024 || spec.execPort > 65535)
      throw new Error(`vm: bad exec port ${spec.execPort} (1024-65535)`);
    argv.push(
      "-netdev",
      `user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:${spec.execPort}-${GUEST_MGMT_ADDRESS}:${GUEST_EXEC_PORT}`,
      "-device",
      `virtio-net-pci,netdev=mgmt,mac=${MGMT_MAC}`,
    );
  }
  return argv;
}
