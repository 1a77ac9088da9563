import { entryArgv } from "../../build/bundles.ts";
import { inNetns, run } from "../../effects/exec.ts";
import type { Handler } from "./handler.ts";
import { scaledMs } from "../timeouts.ts";

/** Calico resources the lab applies (BGP configuration, peers), like `calicoctl apply -f`; removed on delete. */
export interface CalicoResourcesInputs {
  netns: string;
  endpoint: string;
  resources: { kind: string; metadata: { name: string } }[];
}

async function apply(i: CalicoResourcesInputs, del = false): Promise<void> {
  const argv = [...(await entryArgv("apply-resources")), i.endpoint, ...(del ? ["--delete"] : [])];
  // A bound for a hung process, not an expectation: a few puts take well under a second here, but a kubeadm
  // lab's etcd shares an emulated master with the control plane (28 s seen under TCG).
  await run(inNetns(i.netns, argv), { input: JSON.stringify(i.resources), timeoutMs: scaledMs(120_000) });
}

export const calicoResourcesHandler: Handler<CalicoResourcesInputs> = {
  replaceOn: ["netns", "endpoint"],
  async create(inputs) {
    await apply(inputs);
    return { id: `${inputs.netns}/calico-resources`, outs: inputs };
  },
  async read(_id, props) {
    return props;
  },
  async update(_id, olds, news) {
    const gone = olds.resources.filter(
      (o) => !news.resources.some((n) => n.kind === o.kind && n.metadata.name === o.metadata.name),
    );
    if (gone.length > 0) await apply({ ...olds, resources: gone }, true);
    await apply(news);
    return news;
  },
  async delete(_id, props) {
    // The datastore goes with the lab; deleting first keeps a partial destroy consistent.
    await apply(props, true).catch(() => undefined);
  },
};
