import { createNetns, deleteNetns, netnsExists } from "../../effects/netns.ts";
import type { Handler } from "./handler.ts";

export interface NetnsInputs {
  name: string;
}

export const netnsHandler: Handler<NetnsInputs> = {
  replaceOn: ["name"],
  async create({ name }) {
    if (await netnsExists(name)) {
      throw new Error(
        `network namespace ${name} already exists: another lab with this stack name, or one left behind. ` +
          `Destroy that stack, or remove it with: ip netns delete ${name}`,
      );
    }
    await createNetns(name);
    return { id: name, outs: { name } };
  },
  async read(_id, props) {
    return (await netnsExists(props.name)) ? props : undefined;
  },
  async delete(_id, { name }) {
    await deleteNetns(name);
  },
};
