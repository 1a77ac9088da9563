import type { HostDriver } from "../../backends/types.ts";
import { vmDriver } from "../../backends/vm/driver.ts";
import type { VmHostSpec } from "../../vm/host.ts";
import type { Handler } from "./handler.ts";

/** A VM host (backend vm): QEMU on a tap of the underlay, its lab namespace made inside (src/vm/host.ts). */
export type VmHostInputs = Omit<VmHostSpec, "routes"> & { routes: string[][] };

/** startVmHost undoes what it made when it fails (QEMU stopped, tap removed), so create need not. */
export function makeVmHostHandler(fx: Omit<HostDriver<VmHostSpec>, "exec">): Handler<VmHostInputs> {
  return {
    replaceOn: ["name", "switchNetns", "bridge", "tap", "mac", "execPort", "netns", "cidr", "mtu", "runDir"],
    async create(inputs) {
      await fx.create(inputs);
      return { id: `${inputs.switchNetns}/${inputs.tap}`, outs: inputs };
    },
    async read(_id, props) {
      return (await fx.exists(props)) ? props : undefined;
    },
    async delete(_id, props) {
      await fx.destroy(props);
    },
  };
}

export const vmHostHandler = makeVmHostHandler(vmDriver);
