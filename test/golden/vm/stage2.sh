# vm-run stage 2: PID 1 in the overlay root. Runs the command from the control share, reports, powers off.
BB=/run/vm-run/busybox
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
$BB mkdir -p /run/vm-run/ctl
$BB mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none vmctl /run/vm-run/ctl || fail "mount the control share (9p tag vmctl)"
. /run/vm-run/ctl/vm.env || fail "read /run/vm-run/ctl/vm.env"
# The share goes on last, over the guest's own /tmp, /run and /dev: the host path of a project under /tmp
# exists in the guest only once created in its fresh tmpfs.
$BB mkdir -p "$VM_SHARE" || fail "create the shared folder's mount point $VM_SHARE"
$BB mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=mmap share "$VM_SHARE" || fail "mount the shared folder at $VM_SHARE"
# --tmpfs: fresh tmpfs over paths (e.g. in the share, where 9p cannot hold unix sockets).
while read -r d; do
  $BB mkdir -p "$d" && $BB mount -t tmpfs -o mode=0755 tmpfs "$d" || fail "mount a tmpfs at $d"
done </run/vm-run/ctl/tmpfs.list
$BB mkdir -p "/lib/modules/$VM_KERNEL_RELEASE"
$BB mount --bind "$VM_MODULES_DIR" "/lib/modules/$VM_KERNEL_RELEASE" || fail "bind the kernel's modules"
$BB hostname "${VM_HOSTNAME:-vm-run}"
$BB ip link set lo up
echo "3 4 1 3" >/proc/sys/kernel/printk
$BB stty -opost </dev/console 2>/dev/null
echo "::vm-run:$VM_NONCE:start"
/bin/sh /run/vm-run/ctl/run.sh </dev/null
rc=$?
echo "$rc" >/run/vm-run/ctl/exit-code
echo "::vm-run:$VM_NONCE:exit:$rc"
$BB sync
$BB poweroff -f
$BB sleep 10
