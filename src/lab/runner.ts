// The lab's graph run without a Pulumi engine: each node's handler creates it once its prerequisites exist
// (independent nodes at once), its OutputRefs filled in from the outputs of the nodes they name; teardown
// deletes in reverse. A create that fails deletes everything made so far before the error goes on.
import type { Handler } from "./providers/handler.ts";
import {
  mapRefs,
  prerequisites,
  type LabGraph,
  type LabKind,
  type LabNode,
  type OutputRef,
} from "./graph.ts";

type Outputs = Record<string, unknown>;
type AnyHandler = Handler<Outputs, Outputs>;

export interface RunLabOptions {
  /** The handlers by kind (providers/handlers.ts in a lab; fakes in a unit test). */
  handlers: Partial<Record<LabKind, AnyHandler>>;
  /** The outputs of what the graph needs from outside it (EXTERNAL: the manifest's `path`), by name. */
  external?: Record<string, Outputs>;
  /** Inputs merged into a node's before its create (e.g. an agent's resync period), by node name. */
  overrides?: (node: LabNode) => Record<string, unknown> | undefined;
  /** Told when a node is created. */
  onCreated?: (node: LabNode, outs: Outputs) => void;
}

export interface RunningLab {
  /** Each created node's outputs, by name. */
  outputs: Map<string, Outputs>;
  /** Deletes every node, dependents first; deletes the rest when one fails, then throws the first error. */
  teardown(): Promise<void>;
}

/** Throws on a prerequisite the graph does not have, and on a cycle. */
function checkGraph(graph: LabGraph, external: Record<string, Outputs>): void {
  const names = new Set(graph.nodes.map((n) => n.name));
  if (names.size !== graph.nodes.length) throw new Error("lab graph: two nodes share a name");
  for (const n of graph.nodes)
    for (const d of prerequisites(n))
      if (!names.has(d) && !(d in external))
        throw new Error(`lab graph: ${n.name} needs ${d}, which is not in it`);
  const done = new Set<string>();
  let left = graph.nodes;
  while (left.length > 0) {
    const ready = left.filter((n) => prerequisites(n).every((d) => done.has(d) || d in external));
    if (ready.length === 0) throw new Error(`lab graph: a cycle among ${left.map((n) => n.name).join(", ")}`);
    for (const n of ready) done.add(n.name);
    left = left.filter((n) => !done.has(n.name));
  }
}

export async function runLab(graph: LabGraph, o: RunLabOptions): Promise<RunningLab> {
  const external = o.external ?? {};
  checkGraph(graph, external);
  const outputs = new Map<string, Outputs>();
  const ids = new Map<string, string>();
  const created: LabNode[] = [];
  const handler = (n: LabNode): AnyHandler => {
    const h = o.handlers[n.kind];
    if (!h) throw new Error(`lab runner: no handler for ${n.kind} (${n.name})`);
    return h;
  };
  const output = (r: OutputRef): unknown => {
    const outs = outputs.get(r.$ref) ?? external[r.$ref];
    if (!outs || !(r.output in outs)) throw new Error(`lab runner: ${r.$ref} has no output ${r.output}`);
    return outs[r.output];
  };

  async function teardown(): Promise<void> {
    const errors: unknown[] = [];
    // Dependents first: a node is deleted once every created node that needs it is gone.
    const left = [...created];
    while (left.length > 0) {
      const needed = new Set(left.flatMap(prerequisites));
      const leaves = left.filter((n) => !needed.has(n.name));
      await Promise.all(
        leaves.map(async (n) => {
          try {
            await handler(n).delete(ids.get(n.name)!, outputs.get(n.name)!);
          } catch (e) {
            errors.push(e);
          }
        }),
      );
      for (const n of leaves) left.splice(left.indexOf(n), 1);
    }
    created.length = 0;
    if (errors.length > 0) throw errors[0];
  }

  const started = new Map<string, Promise<void>>();
  const start = (n: LabNode): Promise<void> => {
    let p = started.get(n.name);
    if (!p) {
      p = (async () => {
        await Promise.all(
          prerequisites(n)
            .filter((d) => !(d in external))
            .map((d) => start(graph.nodes.find((x) => x.name === d)!)),
        );
        const inputs = { ...(mapRefs(n.inputs, output) as Outputs), ...o.overrides?.(n) };
        const res = await handler(n).create(inputs);
        ids.set(n.name, res.id);
        outputs.set(n.name, res.outs as Outputs);
        created.push(n);
        o.onCreated?.(n, res.outs as Outputs);
      })();
      started.set(n.name, p);
    }
    return p;
  };

  // Every create settles before cleaning up: one still running would make what teardown misses.
  const results = await Promise.allSettled(graph.nodes.map(start));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await teardown().catch(() => undefined);
    throw failed.reason;
  }
  return { outputs, teardown };
}
