// Pulumi side of the lab's resources: a dynamic provider per kind that forwards every call to
// dispatch.ts. Pulumi serializes these functions into the state, so they capture only two strings
// (the kind and dispatch.ts's URL) and load the real code at run time.
import * as pulumi from "@pulumi/pulumi";

const DISPATCH_URL = new URL("./dispatch.ts", import.meta.url).href;

export function providerFor(kind: string): pulumi.dynamic.ResourceProvider {
  const url = DISPATCH_URL;
  const load = async () => {
    const g = globalThis as { __calicoLabDispatch?: Promise<typeof import("./dispatch.ts")> };
    if (!g.__calicoLabDispatch) {
      g.__calicoLabDispatch = import("tsx/esm/api").then(({ tsImport }) => tsImport(url, url));
    }
    return g.__calicoLabDispatch;
  };
  return {
    async diff(id, olds, news) {
      return (await load()).diff(kind, id, olds, news);
    },
    async create(inputs) {
      return (await load()).create(kind, inputs);
    },
    async read(id, props) {
      return (await load()).read(kind, id, props);
    },
    async update(id, olds, news) {
      return (await load()).update(kind, id, olds, news);
    },
    async delete(id, props) {
      await (await load()).remove(kind, id, props);
    },
  };
}
