// A VM host: a lab host with a kernel of its own. QEMU runs in the lab's switch namespace (so its tap is
// a port of the underlay bridge there, and its management port is on that namespace's loopback), boots
// Debian's kernel over the host's root filesystem (scripts/vm-run), and serves the guest exec channel.
// Inside, the host's lab namespace is created with the VM's NIC moved into it as eth0: the agent, BIRD,
// the CNI plugin and pods then run inside it exactly as in a namespace host, on a real kernel (IPIP).
//
// The lab namespace (and later the pods') is recorded as living in the VM (effects/host-exec.ts): from
// then on `inNetns`, daemons and links reach it through the guest exec channel, as `ip netns exec` does a
// namespace of this kernel. The tap is a link of the switch namespace, on this kernel.
import { readdirSync } from "node:fs";
import { ensureInitramfs } from "./build.ts";
import { ensureKernel } from "./kernel.ts";
import { DEFAULT_MODULES } from "./modules.ts";
import { DEFAULT_CACHE_DIR } from "./runner.ts";
import { join } from "node:path";
import { entryArgv, REPO_ROOT } from "../build/bundles.ts";
import { run, tryRun } from "../effects/exec.ts";
import { daemonPid, startDaemon, stopDaemon } from "../effects/daemon.ts";
import { assertIfName, assertNetnsName } from "../effects/names.ts";
import { ipIn, THIS_KERNEL, vmHostExec, type HostExec } from "../effects/host-exec.ts";
import { unregisterVmNetns, VM_NETNS_DIR, vmOfNetns, type VmReach } from "../effects/vm-netns.ts";

export interface VmHostSpec {
  /** The lab host's name (the VM's hostname). */
  name: string;
  /** The lab's switch namespace: QEMU, its tap and its management port live there. */
  switchNetns: string;
  /** The underlay bridge in the switch namespace the tap joins. */
  bridge: string;
  /** The tap's name in the switch namespace. */
  tap: string;
  /** The lab NIC's MAC (how the guest finds it). */
  mac: string;
  /** 127.0.0.1:<execPort> in the switch namespace reaches the guest exec channel; one per VM. */
  execPort: number;
  /** The lab host's namespace, created inside the VM. */
  netns: string;
  /** eth0's address inside it (CIDR). */
  cidr: string;
  /** Routes to add in it (`ip route add` arguments), e.g. to a routed underlay's other subnet. */
  routes?: readonly (readonly string[])[];
  mtu: number;
  /** Host folder for vm-run's pid file and console log. */
  runDir: string;
  memory?: string;
  /** Virtual CPUs (default 1). */
  cpus?: number;
  /** Folders inside the guest that get a fresh tmpfs of their own (containerd's root: overlayfs cannot
   * nest its layers on the guest's overlay root). */
  tmpfs?: readonly string[];
  /** Seconds QEMU may take to boot and serve the channel (TCG: ~12 s alone, more with VMs beside it). */
  bootDeadlineS?: number;
}

const daemonName = (spec: Pick<VmHostSpec, "name">) => `vm-${spec.name}`;

let image: Promise<void> | null = null;
/**
 * Debian's kernel and the initramfs in the cache before any VM starts: vm-run fetches them with apt when
 * they are missing, but it runs in the switch namespace, which has no way out (a fresh clone's first VM
 * host failed there). Once per process: the hosts of a lab start together.
 */
function prepareImage(): Promise<void> {
  image ??= (async () => {
    const log = (l: string) => process.stderr.write(`vm host: ${l}\n`);
    const kernel = await ensureKernel({ cacheDir: DEFAULT_CACHE_DIR, log });
    await ensureInitramfs(DEFAULT_CACHE_DIR, kernel, DEFAULT_MODULES);
  })().catch((e: unknown) => {
    image = null;
    throw e;
  });
  return image;
}
const VM_RUN = join(REPO_ROOT, "scripts", "vm-run");

/** How this host reaches the VM's guest exec channel. */
export async function vmReach(spec: Pick<VmHostSpec, "switchNetns" | "execPort">): Promise<VmReach> {
  return { switchNetns: spec.switchNetns, execPort: spec.execPort, vmExec: await entryArgv("vm-exec") };
}

/** How commands reach the VM host's root namespace (through its exec channel) instead of running here. */
export async function vmExecOf(spec: Pick<VmHostSpec, "switchNetns" | "execPort">): Promise<HostExec> {
  return vmHostExec(await vmReach(spec));
}

/** The argv that runs `argv` in the VM host's root namespace instead of here. */
export async function guestArgv(
  spec: Pick<VmHostSpec, "switchNetns" | "execPort">,
  argv: readonly string[],
): Promise<string[]> {
  return (await vmExecOf(spec)).onHost(argv);
}

/** Runs argv inside the VM host; throws CommandError when it fails (as `run` does). */
export async function runInVm(spec: VmHostSpec, argv: readonly string[]): Promise<string> {
  return run(await guestArgv(spec, argv));
}

/** Whether the VM host's QEMU is running. */
export async function vmHostRunning(spec: VmHostSpec): Promise<boolean> {
  return (await daemonPid(spec.runDir, daemonName(spec))) !== undefined;
}

/**
 * Boots the VM host and makes its lab namespace (eth0, address, routes). On failure nothing is left:
 * QEMU stopped, tap removed.
 */
export async function startVmHost(spec: VmHostSpec): Promise<void> {
  const sw = assertNetnsName(spec.switchNetns);
  const tap = assertIfName(spec.tap);
  assertNetnsName(spec.netns);
  await prepareImage();
  try {
    const swIp = (...args: string[]) => ipIn(THIS_KERNEL, sw, args);
    if ((await tryRun(swIp("link", "show", "dev", tap))).exitCode !== 0)
      await run(swIp("tuntap", "add", "mode", "tap", "name", tap));
    await run(swIp("link", "set", "dev", tap, "master", assertIfName(spec.bridge)));
    await run(swIp("link", "set", "dev", tap, "mtu", String(spec.mtu), "up"));
    const probe = await guestArgv(spec, ["true"]);
    await startDaemon({
      name: daemonName(spec),
      netns: sw,
      argv: [
        VM_RUN,
        "--share",
        REPO_ROOT,
        "--hostname",
        spec.name,
        "--mem",
        spec.memory ?? "1024M",
        "--cpus",
        String(spec.cpus ?? 1),
        ...(spec.tmpfs ?? []).flatMap((d) => ["--tmpfs", d]),
        "--timeout",
        String(7 * 24 * 3600),
        "--tap",
        `${tap},${spec.mac}`,
        "--exec-port",
        String(spec.execPort),
        // Names the run folder in vm-run's arguments, as the lab's other daemons do: found by CI's residue check.
        "--env",
        `CALICO_LAB_RUN_DIR=${spec.runDir}/`,
        "--",
        ...(await entryArgv("vm-guest")),
      ],
      runDir: spec.runDir,
      ready: async () => (await tryRun(probe, { timeoutMs: 5000 })).exitCode === 0,
      deadlineMs: (spec.bootDeadlineS ?? 180) * 1000,
    });
    await makeLabNetns(spec);
  } catch (e) {
    await stopVmHost(spec).catch(() => undefined);
    throw e;
  }
}

/** Inside the VM: the lab namespace, the lab NIC moved into it as eth0, its address and routes; recorded. */
async function makeLabNetns(spec: VmHostSpec): Promise<void> {
  const links = JSON.parse(await runInVm(spec, ["ip", "-j", "link", "show"])) as {
    ifname: string;
    address?: string;
  }[];
  const nic = links.find((l) => l.address?.toLowerCase() === spec.mac.toLowerCase());
  const ns = spec.netns;
  const guest = await vmExecOf(spec);
  const inNs = (...args: string[]) => run(ipIn(guest, ns, args));
  if (nic) {
    await runInVm(spec, ["ip", "netns", "add", ns]);
    await runInVm(spec, ["ip", "link", "set", "dev", nic.ifname, "netns", ns]);
    await inNs("link", "set", "dev", nic.ifname, "name", "eth0");
  } else if ((await tryRun(ipIn(guest, ns, ["link", "show", "eth0"]))).exitCode !== 0) {
    throw new Error(`VM host ${spec.name}: no NIC with MAC ${spec.mac} inside, and no ${ns} with eth0`);
  }
  guest.adopt(ns);
  await inNs("link", "set", "dev", "lo", "up");
  await inNs("link", "set", "dev", "eth0", "mtu", String(spec.mtu), "up");
  await inNs("addr", "replace", spec.cidr, "dev", "eth0");
  for (const r of spec.routes ?? []) await inNs("route", "replace", ...r);
}

/** Namespaces recorded as living in this VM (its lab namespace, its pods'). */
function namespacesOf(spec: Pick<VmHostSpec, "switchNetns" | "execPort">): string[] {
  let names: string[];
  try {
    names = readdirSync(VM_NETNS_DIR);
  } catch {
    return [];
  }
  return names.filter((n) => {
    const vm = vmOfNetns(n);
    return vm?.switchNetns === spec.switchNetns && vm.execPort === spec.execPort;
  });
}

/**
 * Stops QEMU (the guest and every namespace in it go with it), forgets those namespaces and removes the
 * tap. Nothing there is fine.
 */
export async function stopVmHost(spec: VmHostSpec): Promise<void> {
  await stopDaemon(spec.runDir, daemonName(spec), 5000);
  for (const n of namespacesOf(spec)) unregisterVmNetns(n);
  const sw = assertNetnsName(spec.switchNetns);
  const tap = assertIfName(spec.tap);
  if ((await tryRun(ipIn(THIS_KERNEL, sw, ["link", "show", "dev", tap]))).exitCode === 0)
    await run(ipIn(THIS_KERNEL, sw, ["link", "del", "dev", tap]));
}
