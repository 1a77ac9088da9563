// Backend netns's effects: a host's namespace made, checked and removed on this kernel. The lab's own
// namespaces (switch, router, outside) are made the same way.
import { createNetns, deleteNetns, forwarding, netnsExists, setForwarding } from "../../effects/netns.ts";
import { THIS_KERNEL } from "../../effects/host-exec.ts";
import type { HostDriver } from "../types.ts";

export interface NetnsSpec {
  name: string;
}

export interface NetnsDriver extends HostDriver<NetnsSpec> {
  setForwarding(spec: NetnsSpec, on: boolean): Promise<void>;
  forwarding(spec: NetnsSpec): Promise<boolean>;
}

export const netnsDriver: NetnsDriver = {
  create: ({ name }) => createNetns(name, THIS_KERNEL),
  destroy: ({ name }) => deleteNetns(name, THIS_KERNEL),
  exists: ({ name }) => netnsExists(name, THIS_KERNEL),
  exec: () => Promise.resolve(THIS_KERNEL),
  setForwarding: ({ name }, on) => setForwarding(name, on, THIS_KERNEL),
  forwarding: ({ name }) => forwarding(name, THIS_KERNEL),
};
