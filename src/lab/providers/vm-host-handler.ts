import { startVmHost, stopVmHost, vmHostRunning, type VmHostSpec } from "../../vm/host.ts";
import type { Handler } from "./handler.ts";

/** A VM host (backend vm): QEMU on a tap of the underlay, its lab namespace made inside (src/vm/host.ts). */
export type VmHostInputs = Omit<VmHostSpec, "routes"> & { routes: string[][] };

export const vmHostHandler: Handler<VmHostInputs> = {
  replaceOn: ["name", "switchNetns", "bridge", "tap", "mac", "execPort", "netns", "cidr", "mtu", "runDir"],
  async create(inputs) {
    await startVmHost(inputs);
    return { id: `${inputs.switchNetns}/${inputs.tap}`, outs: inputs };
  },
  async read(_id, props) {
    return (await vmHostRunning(props)) ? props : undefined;
  },
  async delete(_id, props) {
    await stopVmHost(props);
  },
};
