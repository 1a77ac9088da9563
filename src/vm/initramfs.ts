// The initramfs: busybox-static, the kernel modules the boot and the lab need, and two small scripts.
//  stage 1 (/init, in the initramfs): insmod the modules, mount the host's root read-only over 9p under a
//    tmpfs-backed overlay (the virtme-ng approach), and switch_root into it;
//  stage 2 (PID 1 in the overlay, run by a copy of busybox under /run/vm-run): mount the per-run control
//    share and the shared project folder (read-write, at its host path, after the guest's own /tmp, /run
//    and /dev, so they cannot hide it), bind the kernel's modules in, run
//    the command and report its exit code (a file in the control share and a marker line on the console),
//    then power off.
// Everything that varies per run (command, environment, share path, nonce) comes through the control share,
// so one initramfs serves every run of a kernel. Pure: text and cpio entries only.
import { createHash } from "node:crypto";
import type { CpioEntry } from "./cpio.ts";
import type { ModuleEntry } from "./modules.ts";

/** 9p mount tags: the host's root (read-only), the shared project folder and the per-run control folder. */
export const TAGS = { root: "hostroot", share: "share", ctl: "vmctl" } as const;

/** Where stage 2 lives inside the VM; the control share is mounted at CTL_DIR. */
export const VM_RUN_DIR = "/run/vm-run";
export const CTL_DIR = `${VM_RUN_DIR}/ctl`;

/** Console marker lines: "::vm-run:<nonce>:start" before the command, "::vm-run:<nonce>:exit:<code>" after. */
export function startMarker(nonce: string): string {
  return `::vm-run:${nonce}:start`;
}
export function exitMarkerPrefix(nonce: string): string {
  return `::vm-run:${nonce}:exit:`;
}

const P9 = "trans=virtio,version=9p2000.L,msize=512000";

export function stage1Script(): string {
  return `#!/bin/busybox sh
# vm-run stage 1 (initramfs /init): modules, host root read-only under a tmpfs overlay, switch_root.
/bin/busybox --install -s /bin
export PATH=/bin
fail() {
  echo "vm-run init: $*"
  poweroff -f
  sleep 10
}
mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sysfs /sys || fail "mount /sys"
mount -t devtmpfs devtmpfs /dev || fail "mount /dev"
while read -r m; do
  insmod "/modules/$m" || fail "insmod $m"
done </modules/order
mount -t 9p -o ${P9},ro,cache=loose ${TAGS.root} /lower || fail "mount the host root (9p tag ${TAGS.root})"
mount -t tmpfs -o mode=0755 vm-rw /rw || fail "mount the overlay's tmpfs"
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot || fail "mount the overlay"
for d in proc sys dev; do
  mount --move "/$d" "/newroot/$d" || fail "move /$d"
done
mount -t tmpfs -o mode=0755,nosuid,nodev run /newroot/run || fail "mount /run"
mkdir -p /newroot${VM_RUN_DIR}
cp /bin/busybox /stage2.sh /newroot${VM_RUN_DIR}/ || fail "copy stage 2"
exec switch_root /newroot ${VM_RUN_DIR}/busybox sh ${VM_RUN_DIR}/stage2.sh
`;
}

export function stage2Script(): string {
  return `# vm-run stage 2: PID 1 in the overlay root. Runs the command from the control share, reports, powers off.
BB=${VM_RUN_DIR}/busybox
fail() {
  echo "vm-run init: $*"
  $BB sync
  $BB poweroff -f
  $BB sleep 10
}
$BB mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp || fail "mount /tmp"
$BB mkdir -p /dev/pts /dev/shm
$BB mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
$BB mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm
# devtmpfs lacks the fd links bash's process substitution and /dev/stdin users need.
[ -e /dev/fd ] || $BB ln -s /proc/self/fd /dev/fd
[ -e /dev/stdin ] || $BB ln -s /proc/self/fd/0 /dev/stdin
[ -e /dev/stdout ] || $BB ln -s /proc/self/fd/1 /dev/stdout
[ -e /dev/stderr ] || $BB ln -s /proc/self/fd/2 /dev/stderr
$BB mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
$BB mkdir -p ${CTL_DIR}
$BB mount -t 9p -o ${P9},cache=none ${TAGS.ctl} ${CTL_DIR} || fail "mount the control share (9p tag ${TAGS.ctl})"
. ${CTL_DIR}/vm.env || fail "read ${CTL_DIR}/vm.env"
# The share goes on last, over the guest's own /tmp, /run and /dev: the host path of a project under /tmp
# exists in the guest only once created in its fresh tmpfs.
$BB mkdir -p "$VM_SHARE" || fail "create the shared folder's mount point $VM_SHARE"
$BB mount -t 9p -o ${P9},cache=mmap ${TAGS.share} "$VM_SHARE" || fail "mount the shared folder at $VM_SHARE"
# --tmpfs: fresh tmpfs over paths (e.g. in the share, where 9p cannot hold unix sockets).
while read -r d; do
  $BB mkdir -p "$d" && $BB mount -t tmpfs -o mode=0755 tmpfs "$d" || fail "mount a tmpfs at $d"
done <${CTL_DIR}/tmpfs.list
$BB mkdir -p "/lib/modules/$VM_KERNEL_RELEASE"
$BB mount --bind "$VM_MODULES_DIR" "/lib/modules/$VM_KERNEL_RELEASE" || fail "bind the kernel's modules"
$BB hostname "\${VM_HOSTNAME:-vm-run}"
$BB ip link set lo up
echo "3 4 1 3" >/proc/sys/kernel/printk
$BB stty -opost </dev/console 2>/dev/null
echo "::vm-run:$VM_NONCE:start"
/bin/sh ${CTL_DIR}/run.sh </dev/null
rc=$?
echo "$rc" >${CTL_DIR}/exit-code
echo "::vm-run:$VM_NONCE:exit:$rc"
$BB sync
$BB poweroff -f
$BB sleep 10
`;
}

export interface InitramfsInputs {
  busybox: Uint8Array;
  /** Modules in load order, each with its file's bytes. */
  modules: readonly { entry: ModuleEntry; data: Uint8Array }[];
}

/** The initramfs's entries, in archive order. */
export function initramfsEntries(inputs: InitramfsInputs): CpioEntry[] {
  const entries: CpioEntry[] = [];
  for (const d of ["bin", "dev", "proc", "sys", "lower", "rw", "newroot", "modules"]) {
    entries.push({ type: "dir", path: d });
  }
  entries.push({ type: "chardev", path: "dev/console", major: 5, minor: 1 });
  entries.push({ type: "chardev", path: "dev/null", major: 1, minor: 3, mode: 0o666 });
  entries.push({ type: "file", path: "bin/busybox", data: inputs.busybox, mode: 0o755 });
  entries.push({ type: "symlink", path: "bin/sh", target: "busybox" });
  entries.push({ type: "file", path: "init", data: stage1Script(), mode: 0o755 });
  entries.push({ type: "file", path: "stage2.sh", data: stage2Script(), mode: 0o644 });
  const files = inputs.modules.map((m) => `${m.entry.name}.ko`);
  inputs.modules.forEach((m, i) => entries.push({ type: "file", path: `modules/${files[i]}`, data: m.data }));
  entries.push({ type: "file", path: "modules/order", data: files.map((f) => f + "\n").join("") });
  return entries;
}

/**
 * The cache key of an initramfs: the kernel (package and version), the modules (names, in order), busybox's and the
 * scripts' hashes. A change to any of them builds a new one.
 */
export function initramfsKey(
  kernelId: string,
  moduleNames: readonly string[],
  busyboxSha256: string,
): string {
  const h = createHash("sha256");
  h.update(`kernel ${kernelId}\nmodules ${moduleNames.join(",")}\nbusybox ${busyboxSha256}\n`);
  h.update(stage1Script());
  h.update(stage2Script());
  return h.digest("hex").slice(0, 16);
}
