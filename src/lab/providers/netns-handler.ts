import { netnsDriver, type NetnsDriver } from "../../backends/netns/driver.ts";
import type { Handler } from "./handler.ts";

export interface NetnsInputs {
  name: string;
  /** IPv4 forwarding on (the router of a routed underlay). */
  forwarding?: boolean;
}

/** A namespace of this kernel (a namespace host, or the lab's switch, router or outside), made by `fx`. */
export function makeNetnsHandler(fx: Omit<NetnsDriver, "exec">): Handler<NetnsInputs> {
  return {
    replaceOn: ["name"],
    async create(inputs) {
      const { name } = inputs;
      if (await fx.exists(inputs)) {
        throw new Error(
          `network namespace ${name} already exists: another lab with this stack name, or one left behind. ` +
            `Destroy that stack, or remove it with: ip netns delete ${name}`,
        );
      }
      await fx.create(inputs);
      try {
        if (inputs.forwarding) await fx.setForwarding(inputs, true);
      } catch (e) {
        await fx.destroy(inputs);
        throw e;
      }
      return { id: name, outs: inputs };
    },
    async read(_id, props) {
      if (!(await fx.exists(props))) return undefined;
      if (props.forwarding === undefined) return props;
      return { ...props, forwarding: await fx.forwarding(props) };
    },
    async update(_id, _olds, news) {
      await fx.setForwarding(news, Boolean(news.forwarding));
      return news;
    },
    async delete(_id, props) {
      await fx.destroy(props);
    },
  };
}

export const netnsHandler = makeNetnsHandler(netnsDriver);
