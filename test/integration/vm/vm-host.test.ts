// A VM host on the lab's underlay: QEMU in the switch namespace with its tap on the bridge, the guest
// exec channel (argv in, output and exit code out), the lab namespace made inside the VM with the NIC as
// eth0, packets both ways between it and a namespace host, the real kernel's tunl0 in it, and nothing
// left after stop. One VM; ~20-40 s under TCG.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { inNetns, run, tryRun } from "../../../src/effects/exec.ts";
import { addAddress, createBridge, createVethPair, listLinks } from "../../../src/effects/links.ts";
import { createNetns, deleteNetns, netnsExists } from "../../../src/effects/netns.ts";
import { vmOfNetns } from "../../../src/effects/vm-netns.ts";
import { hostOfNetns } from "../../../src/effects/host-exec.ts";
import { daemonPid, startDaemon, stopDaemon } from "../../../src/effects/daemon.ts";
import { guestArgv, startVmHost, stopVmHost, vmHostRunning, type VmHostSpec } from "../../../src/vm/host.ts";
import { isRoot, removeNetnsWithPrefix, runPrefix } from "../../support/netns-scope.ts";

const qemu = spawnSync("qemu-system-x86_64", ["--version"]).status === 0;
const skip = !isRoot()
  ? "needs root (network namespaces, tap devices)"
  : !qemu
    ? "qemu-system-x86_64 is not installed (Debian package qemu-system-x86; scripts/setup installs it)"
    : false;

describe("a VM host on the lab's switch", { skip, timeout: 600_000 }, () => {
  const prefix = runPrefix("vh");
  const sw = `${prefix}-sw`;
  const nsHost = `${prefix}-a`;
  let runDir = "";
  let vm: VmHostSpec;
  const inVm = async (argv: string[], input?: string) =>
    tryRun(await guestArgv(vm, argv), input !== undefined ? { input } : {});

  before(async () => {
    runDir = await mkdtemp(join(tmpdir(), `${prefix}-`));
    await createNetns(sw);
    await createBridge(sw, "br0", 1500);
    await createNetns(nsHost);
    await createVethPair({
      netns: nsHost,
      ifname: "eth0",
      peerNetns: sw,
      peerIfname: "a-eth0",
      mtu: 1500,
      peerBridge: "br0",
    });
    await addAddress(nsHost, "eth0", "192.168.77.1/24");
    vm = {
      name: "b",
      switchNetns: sw,
      bridge: "br0",
      tap: "b-eth0",
      mac: "52:54:00:77:00:02",
      execPort: 7001,
      netns: `${prefix}-b`,
      cidr: "192.168.77.2/24",
      mtu: 1500,
      runDir,
    };
    await startVmHost(vm);
  });

  after(async () => {
    await stopVmHost(vm).catch(() => undefined);
    await removeNetnsWithPrefix(prefix);
    await rm(runDir, { recursive: true, force: true });
  });

  it("runs an argv inside: a kernel of its own, exit code, standard input and environment come through", async () => {
    const host = spawnSync("uname", ["-r"], { encoding: "utf8" }).stdout.trim();
    const r = await inVm(["uname", "-r"]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^6\.1\.\d+-\d+-amd64\n$/);
    assert.notEqual(r.stdout.trim(), host, "the same kernel as the host: not a VM");
    assert.equal((await inVm(["sh", "-c", "exit 7"])).exitCode, 7);
    const words = await inVm(
      ["sh", "-c", 'printf "%s|" "$@"; cat', "sh", "two words", "$HOME;`x`"],
      "from stdin",
    );
    assert.equal(words.stdout, "two words|$HOME;`x`|from stdin", "argv is passed as is, no shell between");
    const env = await tryRun(await guestArgv(vm, ["sh", "-c", 'echo "$CNI_COMMAND $VM_RUN"']), {
      env: { CNI_COMMAND: "ADD" },
    });
    assert.equal(env.stdout, "ADD 1\n");
    const missing = await inVm(["no-such-program-here"]);
    assert.equal(missing.exitCode, 127, "could not start: 127");
    assert.match(missing.stderr, /no-such-program-here/);
  });

  it("records its lab namespace: inNetns, listLinks and netnsExists reach it in the VM", async () => {
    assert.deepEqual(vmOfNetns(vm.netns)?.execPort, 7001);
    const r = await tryRun(inNetns(vm.netns, ["uname", "-r"]));
    assert.match(r.stdout, /-amd64\n$/, r.stderr);
    assert.ok((await listLinks(vm.netns)).some((l) => l.ifname === "eth0" && l.address === vm.mac));
    assert.equal(await netnsExists(vm.netns), true);
    const pod = `${prefix}-pod`;
    await createNetns(pod, hostOfNetns(vm.netns));
    assert.equal(await netnsExists(pod), true);
    assert.match((await tryRun(inNetns(pod, ["ip", "-o", "link"]))).stdout, /^1: lo: <LOOPBACK,UP/);
    await deleteNetns(pod);
    assert.equal(vmOfNetns(pod), undefined);
    assert.notEqual((await inVm(["ip", "netns", "exec", pod, "true"])).exitCode, 0, "still in the VM");
  });

  it("holds the lab namespace with the NIC as eth0, and packets flow both ways across the bridge", async () => {
    const addr = await inVm(["ip", "-n", vm.netns, "-4", "-o", "addr", "show", "dev", "eth0"]);
    assert.match(addr.stdout, /inet 192\.168\.77\.2\/24/, addr.stderr);
    const root = await inVm(["ip", "-o", "link", "show"]);
    assert.doesNotMatch(root.stdout, /52:54:00:77:00:02/, "the lab NIC left the VM's root namespace");
    await run(["ip", "netns", "exec", nsHost, "ping", "-c", "1", "-W", "10", "192.168.77.2"]);
    const back = await inVm(["ip", "netns", "exec", vm.netns, "ping", "-c", "1", "-W", "10", "192.168.77.1"]);
    assert.equal(back.exitCode, 0, back.stdout + back.stderr);
    const ports = (await listLinks(sw)).map((l) => l.ifname);
    assert.ok(ports.includes("b-eth0"), `the tap is a port in the switch namespace: ${ports.join(" ")}`);
  });

  it("has the real kernel's IPIP in the lab namespace (this host's kernel has none)", async () => {
    await inVm(["modprobe", "ipip"]);
    const tunl = await inVm(["ip", "-n", vm.netns, "-d", "link", "show", "dev", "tunl0"]);
    assert.equal(tunl.exitCode, 0, tunl.stderr);
    assert.match(tunl.stdout, /link\/ipip 0\.0\.0\.0/);
  });

  it("runs a daemon through the channel: its local vm-exec stands for it, and stopping it stops the guest's", async () => {
    // The lab namespace is recorded as the VM's: startDaemon reaches it as it does a local one.
    const pid = await startDaemon({
      name: "sleeper",
      netns: vm.netns,
      argv: ["sh", "-c", "echo started; exec sleep 1000"],
      runDir,
      ready: async () => (await inVm(["pgrep", "-x", "sleep"])).exitCode === 0,
      deadlineMs: 60_000,
    });
    assert.equal(await daemonPid(runDir, "sleeper"), pid);
    const inside = await inVm(["ip", "netns", "pids", vm.netns]);
    assert.ok(inside.stdout.trim().length > 0, "the daemon runs in the lab namespace inside the VM");
    await stopDaemon(runDir, "sleeper", 10_000);
    assert.equal(await daemonPid(runDir, "sleeper"), undefined);
    assert.equal(
      (await inVm(["pgrep", "-x", "sleep"])).exitCode,
      1,
      "the guest's process outlived its vm-exec",
    );
  });

  it("stops: QEMU gone, the tap gone", async () => {
    await stopVmHost(vm);
    assert.equal(await vmHostRunning(vm), false);
    assert.ok(!(await listLinks(sw)).some((l) => l.ifname === "b-eth0"), "the tap is left");
    assert.notEqual((await inVm(["true"])).exitCode, 0, "the exec channel still answers");
    assert.equal(vmOfNetns(vm.netns), undefined, "the lab namespace is still recorded as the VM's");
  });
});
