import { createNetns, deleteNetns, forwarding, netnsExists, setForwarding } from "../../effects/netns.ts";
import type { Handler } from "./handler.ts";

export interface NetnsInputs {
  name: string;
  /** IPv4 forwarding on (the router of a routed underlay). */
  forwarding?: boolean;
}

export const netnsHandler: Handler<NetnsInputs> = {
  replaceOn: ["name"],
  async create(inputs) {
    const { name } = inputs;
    if (await netnsExists(name)) {
      throw new Error(
        `network namespace ${name} already exists: another lab with this stack name, or one left behind. ` +
          `Destroy that stack, or remove it with: ip netns delete ${name}`,
      );
    }
    await createNetns(name);
    try {
      if (inputs.forwarding) await setForwarding(name, true);
    } catch (e) {
      await deleteNetns(name);
      throw e;
    }
    return { id: name, outs: inputs };
  },
  async read(_id, props) {
    if (!(await netnsExists(props.name))) return undefined;
    if (props.forwarding === undefined) return props;
    return { ...props, forwarding: await forwarding(props.name) };
  },
  async update(_id, _olds, news) {
    await setForwarding(news.name, Boolean(news.forwarding));
    return news;
  },
  async delete(_id, { name }) {
    await deleteNetns(name);
  },
};
