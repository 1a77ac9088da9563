// Entry point (bundled: dist/bin/provider.mjs, src/build/bundles.ts) loaded inside Pulumi's dynamic-provider process.
import { diffInputs } from "./handler.ts";
import { handlers } from "./handlers.ts";
import { KIND_KEY } from "./dynamic-kind.ts";
import { nowMs, recordTiming, timed } from "../../effects/timings.ts";

// The dynamic-provider process's start to its handlers loaded, for the time budget (bench/lab-cycle).
recordTiming({ what: "provider", op: "load", startMs: performance.timeOrigin, endMs: nowMs() });

type Props = Record<string, unknown>;

function handler(kind: string) {
  const h = handlers[kind];
  if (!h) throw new Error(`calico-lab: no handler for resource kind ${kind}`);
  return h;
}

/** Which resource a call is about, for the time budget: its name, node name or namespace, else its id. */
function labelOf(props: Props, id?: string): string | undefined {
  for (const k of ["name", "nodeName", "netns", "path"])
    if (typeof props[k] === "string") return props[k] as string;
  return id;
}

function strip(props: Props): Props {
  return Object.fromEntries(Object.entries(props).filter(([k]) => !k.startsWith("__")));
}

export async function diff(kind: string, id: string, olds: Props, news: Props) {
  return timed(kind, "diff", labelOf(news, id), () => diffOf(kind, olds, news));
}

async function diffOf(kind: string, olds: Props, news: Props) {
  const h = handler(kind);
  const d = diffInputs(h.replaceOn, strip(olds), strip(news));
  if (d.changes || !h.stale) return d;
  return (await h.stale(strip(olds) as never)).length > 0 ? { ...d, changes: true } : d;
}

/** The outputs with the resource's kind, which the shared provider (dynamic.ts) reads on every later call. */
function withKind(kind: string, outs: unknown): Props {
  return { ...(outs as Props), [KIND_KEY]: kind };
}

export async function create(kind: string, inputs: Props) {
  const { id, outs } = await timed(kind, "create", labelOf(inputs), () =>
    handler(kind).create(strip(inputs)),
  );
  return { id, outs: withKind(kind, outs) };
}

export async function read(kind: string, id: string, props: Props) {
  const now = await timed(kind, "read", labelOf(props, id), () => handler(kind).read(id, strip(props)));
  // An empty id tells the engine the resource is gone.
  return now === undefined ? { id: "", props: {} } : { id, props: withKind(kind, now) };
}

export async function update(kind: string, id: string, olds: Props, news: Props) {
  const h = handler(kind);
  if (!h.update) throw new Error(`calico-lab: ${kind} cannot be updated in place`);
  return {
    outs: withKind(
      kind,
      await timed(kind, "update", labelOf(news, id), () => h.update!(id, strip(olds), strip(news))),
    ),
  };
}

export async function remove(kind: string, id: string, props: Props) {
  await timed(kind, "delete", labelOf(props, id), () => handler(kind).delete(id, strip(props)));
}
