// Backend vm's effects: a VM host booted, checked and stopped (src/vm/host.ts), reached through its guest
// exec channel.
import { startVmHost, stopVmHost, vmExecOf, vmHostRunning, type VmHostSpec } from "../../vm/host.ts";
import type { HostDriver } from "../types.ts";

export const vmDriver: HostDriver<VmHostSpec> = {
  create: startVmHost,
  destroy: stopVmHost,
  exists: vmHostRunning,
  exec: vmExecOf,
};
