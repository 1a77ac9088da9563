// Pulumi side of the lab's resources: a dynamic provider per kind that forwards every call to
// dispatch.ts. Pulumi serializes these functions into the state, so they capture only two strings
// (the kind and the URL of src/build/bundles.ts) and load the real code at run time: dispatch.ts and the
// handlers from their bundle (dist/bin/provider.mjs, rebuilt when stale), through tsx only bundles.ts.
import * as pulumi from "@pulumi/pulumi";

const BUNDLES_URL = new URL("../../build/bundles.ts", import.meta.url).href;

export function providerFor(kind: string): pulumi.dynamic.ResourceProvider {
  const url = BUNDLES_URL;
  const load = async () => {
    const g = globalThis as { __calicoLabDispatch?: Promise<typeof import("./dispatch.ts")> };
    if (!g.__calicoLabDispatch) {
      g.__calicoLabDispatch = import("tsx/esm/api")
        .then(({ tsImport }) => tsImport(url, url) as Promise<typeof import("../../build/bundles.ts")>)
        .then((b) => b.libraryUrl("provider"))
        .then((bundle) => import(bundle) as Promise<typeof import("./dispatch.ts")>);
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
