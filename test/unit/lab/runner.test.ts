// runLab with injected handlers: creates in dependency order (independent nodes at once), fills in
// OutputRefs, deletes in reverse, and cleans up what it made when a create fails.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { outputRef, type LabGraph, type LabNode } from "../../../src/lab/graph.ts";
import type { Handler } from "../../../src/lab/providers/handler.ts";
import { runLab } from "../../../src/lab/runner.ts";

type Props = Record<string, unknown>;

/** A handler recording every call in `log`; `failOn` names a create that throws. */
function recorder(log: string[], o: { failOn?: string; outs?: (name: string) => Props } = {}) {
  const h: Handler<Props, Props> = {
    replaceOn: [],
    async create(inputs) {
      const name = String(inputs.name);
      log.push(`create ${name}`);
      await new Promise((r) => setTimeout(r, 5));
      if (name === o.failOn) throw new Error(`${name} failed`);
      log.push(`created ${name}`);
      return { id: name, outs: { ...inputs, ...o.outs?.(name) } };
    },
    async read(_id, props) {
      return props;
    },
    async delete(id) {
      log.push(`delete ${id}`);
    },
  };
  return h;
}

const netns = (name: string, dependsOn: string[] = []): LabNode => ({
  kind: "netns",
  name,
  inputs: { name },
  dependsOn,
});

/** a ← b, a ← c (b and c independent), d needs b's and c's outputs through refs only. */
const diamond: LabGraph = {
  nodes: [
    netns("a"),
    netns("b", ["a"]),
    netns("c", ["a"]),
    {
      kind: "etcd",
      name: "d",
      inputs: { netns: outputRef("b", "ns"), address: outputRef("c", "ns"), runDir: "/run" },
      dependsOn: [],
    },
  ],
};

const index = (log: string[], line: string) => {
  const i = log.indexOf(line);
  assert.ok(i >= 0, `${line} not in ${log.join("; ")}`);
  return i;
};

describe("runLab", () => {
  it("creates each node after its prerequisites, independent ones at once, and fills in refs", async () => {
    const log: string[] = [];
    const seen: Props[] = [];
    const etcd = recorder(log);
    const lab = await runLab(diamond, {
      handlers: {
        netns: recorder(log, { outs: (n) => ({ ns: `ns-${n}` }) }),
        etcd: { ...etcd, create: (i) => (seen.push(i), etcd.create({ ...i, name: "d" })) },
      },
    });
    assert.ok(index(log, "created a") < index(log, "create b"));
    assert.ok(index(log, "create c") < index(log, "created b"), "b and c run at the same time");
    assert.ok(
      index(log, "created b") < index(log, "create d") && index(log, "created c") < index(log, "create d"),
    );
    assert.deepEqual(seen, [{ netns: "ns-b", address: "ns-c", runDir: "/run" }]);
    assert.equal(lab.outputs.get("b")?.ns, "ns-b");

    log.length = 0;
    await lab.teardown();
    assert.equal(log[0], "delete d");
    assert.equal(log.at(-1), "delete a");
    assert.deepEqual([...log].sort(), ["delete a", "delete b", "delete c", "delete d"]);
  });

  it("a failed create: nothing after it is created, everything made is deleted, the error goes on", async () => {
    const log: string[] = [];
    const graph: LabGraph = { nodes: [netns("a"), netns("b", ["a"]), netns("c", ["b"]), netns("x", ["a"])] };
    await assert.rejects(runLab(graph, { handlers: { netns: recorder(log, { failOn: "b" }) } }), /b failed/);
    assert.ok(!log.includes("create c"), "c was not tried");
    // x ran beside b and had finished: it is deleted too, before a.
    assert.ok(index(log, "delete x") < index(log, "delete a"), log.join("; "));
    assert.ok(!log.includes("delete b"), "b was never made");
  });

  it("merges overrides into a node's inputs, and takes external outputs as given", async () => {
    const log: string[] = [];
    const seen: Props[] = [];
    const h = recorder(log);
    const graph: LabGraph = {
      nodes: [
        {
          kind: "pod",
          name: "p",
          inputs: {
            name: "p",
            netns: "p",
            hostNetns: "h",
            host: "h",
            namespace: "default",
            containerId: "c",
            manifestPath: outputRef("@manifest", "path"),
            runDir: "/run",
            agentSocket: "/run/h/cni.sock",
            server: false,
            serverPort: 8080,
          },
          dependsOn: ["@runFolder"],
        },
      ],
    };
    await runLab(graph, {
      handlers: { pod: { ...h, create: (i) => (seen.push(i), h.create(i)) } },
      external: { "@manifest": { path: "/run/calico.yaml" }, "@runFolder": {} },
      overrides: (n) => (n.name === "p" ? { server: true } : undefined),
    });
    assert.equal(seen[0]!.manifestPath, "/run/calico.yaml");
    assert.equal(seen[0]!.server, true);
  });

  it("refuses a graph that needs a node it does not have, or has a cycle, before creating anything", async () => {
    const log: string[] = [];
    const handlers = { netns: recorder(log) };
    await assert.rejects(runLab({ nodes: [netns("a", ["nope"])] }, { handlers }), /a needs nope/);
    await assert.rejects(
      runLab({ nodes: [netns("a", ["b"]), netns("b", ["a"])] }, { handlers }),
      /a cycle among a, b/,
    );
    assert.deepEqual(log, []);
  });
});
