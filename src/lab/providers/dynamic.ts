// Pulumi side of the lab's resources: one dynamic provider for every kind, forwarding each call to
// dispatch.ts with the resource's kind, which travels in its inputs and outputs (KIND_KEY). Pulumi serializes
// a dynamic provider into the state, parsing its functions' source with the TypeScript compiler, once per
// provider object: a provider per resource cost that for each of the lab's resources on every `up`; one
// object is serialized once. The functions capture two strings (the URL of src/build/freshness.mjs and the
// kind key) and load the real code at run time: dispatch.ts and the handlers from their bundle
// (dist/bin/provider.mjs), through freshness.mjs's importLibrary (a fresh bundle straight away; a stale one
// rebuilt first through bundles.ts, which only then costs loading tsx).
//
// A stack written before KIND_KEY holds a provider per kind (it called dispatch with its kind fixed); those
// still work, as dispatch's functions keep their signatures, and so do the ones that load bundles.ts through
// tsx every time (its libraryUrl stays).
import * as pulumi from "@pulumi/pulumi";
import { KIND_KEY } from "./dynamic-kind.ts";

const FRESHNESS_URL = new URL("../../build/freshness.mjs", import.meta.url).href;

export { KIND_KEY };

function makeLabProvider(): pulumi.dynamic.ResourceProvider {
  const freshness = FRESHNESS_URL;
  const key = KIND_KEY;
  const load = async () => {
    const g = globalThis as { __calicoLabDispatch?: Promise<typeof import("./dispatch.ts")> };
    if (!g.__calicoLabDispatch) {
      g.__calicoLabDispatch = (import(freshness) as Promise<typeof import("../../build/freshness.mjs")>)
        .then((f) => f.importLibrary<typeof import("./dispatch.ts")>("provider"))
        .then((l) => l.module);
    }
    return g.__calicoLabDispatch;
  };
  const kindOf = (props: Record<string, unknown>): string => String(props[key]);
  return {
    async diff(id, olds, news) {
      return (await load()).diff(kindOf(news), id, olds, news);
    },
    async create(inputs) {
      return (await load()).create(kindOf(inputs), inputs);
    },
    async read(id, props) {
      return (await load()).read(kindOf(props), id, props);
    },
    async update(id, olds, news) {
      return (await load()).update(kindOf(news), id, olds, news);
    },
    async delete(id, props) {
      await (await load()).remove(kindOf(props), id, props);
    },
  };
}

/** The one provider object every lab resource names (so Pulumi serializes it once a run). */
export const labProvider: pulumi.dynamic.ResourceProvider = makeLabProvider();
