// Where a command for a lab host runs. A host's kernel is this machine's (a namespace host) or its own
// (a VM host; later an SSH machine or a Kubernetes node): a HostExec turns an argv into the argv that runs it
// in that host's root namespace, and records the namespaces made there so every process of the lab (the
// provider, the verification, calicoctl, a test) finds them by name. Every command that touches a host's
// namespaces is built here: `ip -n <netns> …` and `ip netns exec <netns> …` on the host the namespace is on.
import { assertNetnsName } from "./names.ts";
import { registerVmNetns, unregisterVmNetns, vmOfNetns, vmPrefix, type VmReach } from "./vm-netns.ts";

export interface HostExec {
  /** Where the commands run, for messages: "this kernel", "the VM at lab-underlay 127.0.0.1:7001". */
  readonly where: string;
  /** This machine's kernel: its /run/netns and /proc are the host's. */
  readonly local: boolean;
  /** The argv that runs `argv` in the host's root namespace. */
  onHost(argv: readonly string[]): string[];
  /** Records a namespace made on the host (so `hostOfNetns` finds it); this kernel's /run/netns does that. */
  adopt(netns: string): void;
  /** Forgets a namespace deleted on the host. */
  forget(netns: string): void;
}

/** This machine's kernel: commands run as they are. */
export const THIS_KERNEL: HostExec = {
  where: "this kernel",
  local: true,
  onHost: (argv) => [...argv],
  adopt: () => undefined,
  forget: () => undefined,
};

/** A VM host's kernel, through its guest exec channel (vm-netns.ts). */
export function vmHostExec(vm: VmReach): HostExec {
  return {
    where: `the VM at ${vm.switchNetns} 127.0.0.1:${vm.execPort}`,
    local: false,
    onHost: (argv) => [...vmPrefix(vm), ...argv],
    adopt: (netns) => registerVmNetns(netns, vm),
    forget: (netns) => unregisterVmNetns(netns),
  };
}

/** The host the named namespace is on: a VM's when recorded as one of its namespaces, else this kernel. */
export function hostOfNetns(netns: string): HostExec {
  const vm = vmOfNetns(netns);
  return vm ? vmHostExec(vm) : THIS_KERNEL;
}

/** `ip -n <netns> <args>` on the host. */
export function ipIn(host: HostExec, netns: string, args: readonly string[]): string[] {
  return host.onHost(["ip", "-n", assertNetnsName(netns), ...args]);
}

/**
 * argv run in the named network namespace of the host, in the host's own mount namespace (`nsenter --net`):
 * for daemons whose mounts everyone on the host must see (containerd's pod namespaces and container
 * roots, kubelet's volumes). `ip netns exec` would give them a private mount namespace.
 */
export function nsenterIn(host: HostExec, netns: string, argv: readonly string[]): string[] {
  return host.onHost(["nsenter", `--net=/run/netns/${assertNetnsName(netns)}`, "--", ...argv]);
}

/** argv run inside the named namespace of the host (`ip netns exec`; callers check the name, as before). */
export function execIn(host: HostExec, netns: string, argv: readonly string[]): string[] {
  return host.onHost(["ip", "netns", "exec", netns, ...argv]);
}
