import { createBridge, deleteLink, linkExists, setMtu } from "../../effects/links.ts";
import type { Handler } from "./handler.ts";

export interface BridgeInputs {
  netns: string;
  name: string;
  mtu: number;
}

/** The link effects a bridge needs (effects/links.ts; a unit test records them instead). */
export interface BridgeEffects {
  createBridge(netns: string, name: string, mtu: number): Promise<void>;
  deleteLink(netns: string, name: string): Promise<void>;
  linkExists(netns: string, name: string): Promise<boolean>;
  setMtu(netns: string, name: string, mtu: number): Promise<void>;
}

export function makeBridgeHandler(fx: BridgeEffects): Handler<BridgeInputs> {
  return {
    replaceOn: ["netns", "name"],
    async create(inputs) {
      try {
        await fx.createBridge(inputs.netns, inputs.name, inputs.mtu);
      } catch (e) {
        await fx.deleteLink(inputs.netns, inputs.name).catch(() => undefined);
        throw e;
      }
      return { id: `${inputs.netns}/${inputs.name}`, outs: inputs };
    },
    async read(_id, props) {
      return (await fx.linkExists(props.netns, props.name).catch(() => false)) ? props : undefined;
    },
    async update(_id, _olds, news) {
      await fx.setMtu(news.netns, news.name, news.mtu);
      return news;
    },
    async delete(_id, props) {
      await fx.deleteLink(props.netns, props.name).catch(() => undefined);
    },
  };
}

export const bridgeHandler = makeBridgeHandler({ createBridge, deleteLink, linkExists, setMtu });
