import { createBridge, deleteLink, linkExists, setMtu } from "../../effects/links.ts";
import type { Handler } from "./handler.ts";

export interface BridgeInputs {
  netns: string;
  name: string;
  mtu: number;
}

export const bridgeHandler: Handler<BridgeInputs> = {
  replaceOn: ["netns", "name"],
  async create(inputs) {
    try {
      await createBridge(inputs.netns, inputs.name, inputs.mtu);
    } catch (e) {
      await deleteLink(inputs.netns, inputs.name).catch(() => undefined);
      throw e;
    }
    return { id: `${inputs.netns}/${inputs.name}`, outs: inputs };
  },
  async read(_id, props) {
    return (await linkExists(props.netns, props.name).catch(() => false)) ? props : undefined;
  },
  async update(_id, _olds, news) {
    await setMtu(news.netns, news.name, news.mtu);
    return news;
  },
  async delete(_id, props) {
    await deleteLink(props.netns, props.name).catch(() => undefined);
  },
};
