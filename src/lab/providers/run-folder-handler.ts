import { mkdir, rm } from "node:fs/promises";
import type { Handler } from "./handler.ts";

/**
 * The stack's run folder (.lab/<stack>): etcd data, agents' state, logs, the rendered manifest, reports.
 * Everything that writes there depends on it, so destroy removes it last, with whatever a failed run left.
 */
export interface RunFolderInputs {
  path: string;
}

export const runFolderHandler: Handler<RunFolderInputs> = {
  replaceOn: ["path"],
  async create(inputs) {
    await mkdir(inputs.path, { recursive: true });
    return { id: inputs.path, outs: inputs };
  },
  async read(_id, props) {
    return props;
  },
  async delete(_id, props) {
    await rm(props.path, { recursive: true, force: true });
  },
};
