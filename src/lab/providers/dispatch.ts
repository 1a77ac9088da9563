// Entry point (bundled: dist/bin/provider.mjs, src/build/bundles.ts) loaded inside Pulumi's dynamic-provider process.
import { diffInputs } from "./handler.ts";
import { handlers } from "./handlers.ts";

type Props = Record<string, unknown>;

function handler(kind: string) {
  const h = handlers[kind];
  if (!h) throw new Error(`calico-lab: no handler for resource kind ${kind}`);
  return h;
}

function strip(props: Props): Props {
  return Object.fromEntries(Object.entries(props).filter(([k]) => !k.startsWith("__")));
}

export async function diff(kind: string, _id: string, olds: Props, news: Props) {
  const h = handler(kind);
  const d = diffInputs(h.replaceOn, strip(olds), strip(news));
  if (d.changes || !h.stale) return d;
  return (await h.stale(strip(olds) as never)).length > 0 ? { ...d, changes: true } : d;
}

export async function create(kind: string, inputs: Props) {
  return handler(kind).create(strip(inputs));
}

export async function read(kind: string, id: string, props: Props) {
  const now = await handler(kind).read(id, strip(props));
  // An empty id tells the engine the resource is gone.
  return now === undefined ? { id: "", props: {} } : { id, props: now };
}

export async function update(kind: string, id: string, olds: Props, news: Props) {
  const h = handler(kind);
  if (!h.update) throw new Error(`calico-lab: ${kind} cannot be updated in place`);
  return { outs: await h.update(id, strip(olds), strip(news)) };
}

export async function remove(kind: string, id: string, props: Props) {
  await handler(kind).delete(id, strip(props));
}
