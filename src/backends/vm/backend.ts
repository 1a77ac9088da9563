// Backend vm: a lab host is a QEMU VM (src/vm/host.ts) on a tap of the underlay bridge, its lab namespace
// and its pods' inside the guest, on Debian's kernel. Pure.
import type { HostBackend } from "../types.ts";

/** The first VM host's exec port; the others follow. */
export const VM_EXEC_PORT_BASE = 7001;

/** A VM host's MAC: locally administered (QEMU's 52:54:00 prefix), unique per host index. Pure. */
export function vmMac(index: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, "0");
  return `52:54:00:ca:${hex((index >> 8) & 255)}:${hex(index & 255)}`;
}

export const vmBackend: HostBackend<"vm"> = {
  name: "vm",
  // Under TCG every node process takes seconds to start.
  limits: {
    maxHosts: 8,
    whyMaxHosts: "each is a QEMU VM with 1 GiB and, under TCG, a host thread of its own",
    agentReadyMs: 300_000,
    verifyDeadlineMs: 60_000,
  },
  // Debian's kernel, not this one: the agents' own preflight runs there.
  thisKernel: false,
  machine: (stack, host, index) => ({
    kind: "vm",
    mac: vmMac(index),
    execPort: VM_EXEC_PORT_BASE + index,
    socketDir: `/run/calico-lab/${stack}-${host}`,
    etcdDataDir: `/run/calico-lab/${stack}-etcd`,
  }),
  // The VM's tap is a port of the same bridge: the switch sees its traffic as a namespace host's.
  captureAt: (switchNetns, host) => ({ netns: switchNetns, ifname: host.bridge }),
};
