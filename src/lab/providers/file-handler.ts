import { mkdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Handler } from "./handler.ts";

/** A file the lab writes for its user (the rendered calico.yaml): created, rewritten on change, removed. */
export interface FileInputs {
  path: string;
  content: string;
}

async function write(inputs: FileInputs): Promise<FileInputs> {
  await mkdir(dirname(inputs.path), { recursive: true });
  await writeFile(inputs.path, inputs.content);
  return inputs;
}

export const fileHandler: Handler<FileInputs> = {
  replaceOn: ["path"],
  async create(inputs) {
    return { id: inputs.path, outs: await write(inputs) };
  },
  async read(_id, props) {
    try {
      return { ...props, content: await readFile(props.path, "utf8") };
    } catch {
      return undefined;
    }
  },
  async update(_id, _olds, news) {
    return write(news);
  },
  async delete(_id, props) {
    await rm(props.path, { force: true });
    // The stack's run folder goes too once it is empty.
    await rmdir(dirname(props.path)).catch(() => undefined);
  },
};
