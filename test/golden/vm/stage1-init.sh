#!/bin/busybox sh
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
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,ro,cache=loose hostroot /lower || fail "mount the host root (9p tag hostroot)"
mount -t tmpfs -o mode=0755 vm-rw /rw || fail "mount the overlay's tmpfs"
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot || fail "mount the overlay"
for d in proc sys dev; do
  mount --move "/$d" "/newroot/$d" || fail "move /$d"
done
mount -t tmpfs -o mode=0755,nosuid,nodev run /newroot/run || fail "mount /run"
mkdir -p /newroot/run/vm-run
cp /bin/busybox /stage2.sh /newroot/run/vm-run/ || fail "copy stage 2"
exec switch_root /newroot /run/vm-run/busybox sh /run/vm-run/stage2.sh
