import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { kernelAppend, qemuArgv } from "../../../src/vm/qemu.ts";
import type { QemuSpec } from "../../../src/vm/qemu.ts";

const spec = (over: Partial<QemuSpec> = {}): QemuSpec => ({
  accel: "tcg",
  kernel: "/c/vmlinuz",
  initrd: "/c/initrd.cpio",
  memory: "2048M",
  cpus: 2,
  share: "/work/main",
  ctl: "/tmp/vm-run-x",
  ...over,
});

const after = (argv: string[], flag: string) => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]] : []));

describe("qemu argv", () => {
  it("boots the kernel under TCG with the serial console on stdio and no reboot", () => {
    const argv = qemuArgv(spec());
    assert.equal(argv[0], "qemu-system-x86_64");
    assert.deepEqual(after(argv, "-machine"), ["pc"]);
    assert.deepEqual(after(argv, "-accel"), ["tcg,thread=single"]);
    assert.deepEqual(after(argv, "-cpu"), ["Nehalem"]);
    assert.deepEqual(after(argv, "-m"), ["2048M"]);
    assert.deepEqual(after(argv, "-smp"), ["2"]);
    assert.deepEqual(after(argv, "-kernel"), ["/c/vmlinuz"]);
    assert.deepEqual(after(argv, "-initrd"), ["/c/initrd.cpio"]);
    assert.deepEqual(after(argv, "-serial"), ["chardev:console"]);
    assert.ok(argv.includes("-no-reboot"));
    assert.match(after(argv, "-append")[0] ?? "", /^console=ttyS0 quiet panic=-1 /);
  });

  it("uses -cpu host under KVM", () => {
    assert.deepEqual(after(qemuArgv(spec({ accel: "kvm" })), "-cpu"), ["host"]);
    assert.deepEqual(after(qemuArgv(spec({ accel: "kvm" })), "-accel"), ["kvm"]);
  });

  it("has no network to the outside: no default NIC, no user-mode netdev", () => {
    const argv = qemuArgv(spec());
    assert.ok(argv.includes("-nodefaults"));
    assert.deepEqual(after(argv, "-nic"), ["none"]);
    assert.ok(!argv.some((a) => /\buser\b/.test(a) && a.includes("netdev")));
    assert.deepEqual(after(argv, "-netdev"), []);
  });

  it("shares / read-only, the project folder and the control folder read-write, by 9p tag", () => {
    const fsdevs = after(qemuArgv(spec()), "-fsdev");
    assert.deepEqual(fsdevs, [
      "local,id=hostroot,path=/,security_model=none,multidevs=remap,readonly=on",
      "local,id=share,path=/work/main,security_model=none,multidevs=remap",
      "local,id=vmctl,path=/tmp/vm-run-x,security_model=none,multidevs=remap",
    ]);
  });

  it("attaches tap NICs only when asked, each as a virtio NIC", () => {
    const argv = qemuArgv(spec({ taps: [{ ifname: "vmtap0", mac: "52:54:00:00:00:01" }] }));
    assert.deepEqual(after(argv, "-netdev"), ["tap,id=net0,ifname=vmtap0,script=no,downscript=no"]);
    assert.ok(after(argv, "-device").includes("virtio-net-pci,netdev=net0,mac=52:54:00:00:00:01"));
  });

  it("adds a management NIC for the guest exec channel only when asked: restricted, one port forwarded", () => {
    assert.ok(!qemuArgv(spec({})).some((a) => a.startsWith("user,")), "no user-mode NIC by default");
    const argv = qemuArgv(spec({ execPort: 7003 }));
    assert.deepEqual(after(argv, "-netdev"), [
      "user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:7003-10.0.2.15:7000",
    ]);
    assert.ok(after(argv, "-device").includes("virtio-net-pci,netdev=mgmt,mac=52:54:00:c0:ff:ee"));
    assert.throws(() => qemuArgv(spec({ execPort: 80 })), /exec port/);
    assert.throws(() => qemuArgv(spec({ execPort: 70000 })), /exec port/);
  });

  it("rejects values that would break QEMU's option syntax", () => {
    assert.throws(() => qemuArgv(spec({ share: "/a,b" })), /may not contain ','/);
    assert.throws(() => qemuArgv(spec({ memory: "lots" })), /memory/);
    assert.throws(() => qemuArgv(spec({ cpus: 0 })), /cpu/);
    assert.throws(() => qemuArgv(spec({ taps: [{ ifname: "x,y", mac: "52:54:00:00:00:01" }] })), /tap/);
    assert.throws(() => qemuArgv(spec({ taps: [{ ifname: "t0", mac: "nope" }] })), /MAC/);
  });

  it("adds extra kernel parameters at the end", () => {
    assert.match(kernelAppend(["foo=1"]), / foo=1$/);
  });
});
