// The host-backend seam (as kind's Provider and netlab's providers): what a lab host is made of. A host
// is a network namespace of this kernel (netns) or a QEMU VM whose namespaces live in its guest (vm); an
// SSH machine or a Kubernetes node would be one more backend. Each backend says what its hosts need in
// the plan, their limits, where a capture of their traffic is taken and whether this kernel is theirs;
// its driver creates and destroys a host and says how commands reach it (a HostExec). Pure: types only.
import type { HostBackend as HostBackendName } from "../config/model.ts";
import type { HostExec } from "../effects/host-exec.ts";

export type { HostBackendName, HostExec };

/** A namespace host: a network namespace of this kernel, its eth0 a veth to a port of the switch bridge. */
export interface NetnsMachine {
  kind: "netns";
}

/** A VM host: QEMU on a tap of the switch bridge, its lab namespace inside the guest. */
export interface VmMachine {
  kind: "vm";
  /** The lab NIC's MAC (how the guest finds it). */
  mac: string;
  /** The port of its guest exec channel on the switch namespace's loopback. */
  execPort: number;
  /** Inside the VM: BIRD's control socket on a tmpfs (the run dir is on the 9p share). */
  socketDir: string;
  /** Inside the VM: etcd's data on a tmpfs (the master's). */
  etcdDataDir: string;
}

/** What a host is, with the plan fields its backend needs: `HostPlan.machine`. */
export type HostMachine = NetnsMachine | VmMachine;
export type MachineOf<K extends HostBackendName> = Extract<HostMachine, { kind: K }>;

export interface HostLimits {
  /** Most hosts a lab of this backend may have (none: only the lab's own limits), and why. */
  maxHosts?: number;
  whyMaxHosts?: string;
  /** How long an agent may take to be ready (none: the agent's default). */
  agentReadyMs?: number;
  /** How long the verification waits for the lab to converge. */
  verifyDeadlineMs: number;
}

/** Where a capture of a host's underlay traffic is taken: a namespace of this kernel and an interface in it. */
export interface CapturePoint {
  netns: string;
  ifname: string;
}

/** What the backend knows about its hosts. Pure: the config, the plan and the Pulumi program use it. */
export interface HostBackend<K extends HostBackendName = HostBackendName> {
  readonly name: K;
  readonly limits: HostLimits;
  /**
   * The hosts run on this machine's kernel: preflight probes it before anything is created, and their
   * processes' pids are this machine's. False: each host's agent runs its own preflight in its kernel.
   */
  readonly thisKernel: boolean;
  /** The plan fields of the `index`th host of the stack (pure). */
  machine(stack: string, host: string, index: number): MachineOf<K>;
  /** Where the capture of a host's underlay traffic is taken (the switch is the lab's either way). */
  captureAt(switchNetns: string, host: { bridge: string; port: string }): CapturePoint;
}

/** Making and removing one host of a backend, and reaching it. S: what its resource's inputs hold. */
export interface HostDriver<S> {
  create(spec: S): Promise<void>;
  /** Removes the host and whatever it held; a host already gone is not an error. */
  destroy(spec: S): Promise<void>;
  exists(spec: S): Promise<boolean>;
  /** How commands reach the host's root namespace. */
  exec(spec: S): Promise<HostExec>;
}
