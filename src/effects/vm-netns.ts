// Where a named lab namespace lives. Most live in this kernel (`ip netns`: /run/netns/<name>); the
// namespaces of a VM host (its lab namespace and its pods') live in the VM's kernel, and are reached
// through the VM's guest exec channel. They are recorded here as /run/netns records the local ones:
// /run/calico-lab/vm-netns/<name> holds the argv prefix that runs a command in the VM, so every process
// of the lab (the provider, the verification, calicoctl, a test) resolves a name the same way:
// host-exec.ts `hostOfNetns` turns a record into the HostExec that reaches the VM, so `inNetns`, links
// and namespaces work for both.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { assertNetnsName } from "./names.ts";

export const VM_NETNS_DIR = "/run/calico-lab/vm-netns";

/** How to reach a VM host's guest exec channel from here. */
export interface VmReach {
  /** The namespace QEMU runs in (the lab's switch): the channel's port is on its loopback. */
  switchNetns: string;
  execPort: number;
  /** The argv of the vm-exec client (`node …/vm-exec.mjs`). */
  vmExec: readonly string[];
}

/** The argv prefix that runs a command in the VM's root namespace. */
export function vmPrefix(vm: VmReach): string[] {
  return [
    "ip",
    "netns",
    "exec",
    assertNetnsName(vm.switchNetns),
    ...vm.vmExec,
    `127.0.0.1:${vm.execPort}`,
    "--",
  ];
}

/** Records that the named namespace lives in that VM. */
export function registerVmNetns(name: string, vm: VmReach): void {
  assertNetnsName(name);
  mkdirSync(VM_NETNS_DIR, { recursive: true });
  writeFileSync(join(VM_NETNS_DIR, name), JSON.stringify(vm) + "\n");
}

export function unregisterVmNetns(name: string): void {
  rmSync(join(VM_NETNS_DIR, assertNetnsName(name)), { force: true });
}

/** The VM the named namespace lives in, or undefined for a namespace of this kernel. */
export function vmOfNetns(name: string): VmReach | undefined {
  // Only a plain name is looked up (never a path out of the folder); assertNetnsName judges it elsewhere.
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) return undefined;
  let text: string;
  try {
    text = readFileSync(join(VM_NETNS_DIR, name), "utf8");
  } catch {
    return undefined;
  }
  const v = JSON.parse(text) as VmReach;
  if (typeof v.switchNetns !== "string" || !Number.isInteger(v.execPort) || !Array.isArray(v.vmExec))
    throw new Error(`${join(VM_NETNS_DIR, name)}: not a VM namespace record`);
  return v;
}
