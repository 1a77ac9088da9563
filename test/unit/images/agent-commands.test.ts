// The calico-node image holds every program our agent runs: a command the agent spawns that the image lacks
// fails only inside a cluster (the first 3-VM run found `unshare` missing: the preflight's probe). The commands
// are read from the agent's sources, the image's paths from the catalog.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, it } from "node:test";
import { catalog, type CatalogInputs } from "../../../src/images/catalog.ts";

const inputs: CatalogInputs = {
  kubernetesVersion: "v1.34.4",
  pauseRef: "registry.k8s.io/pause:3.10.1",
  labVersion: "0.1.0",
  nodePath: "/usr/bin/node",
  kubernetesBin: ".tools/k8s/bin",
  echoPort: 8080,
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Programs the agent spawns: the first element of an argv array literal, `["ip", …`. */
function agentCommands(): string[] {
  const found = new Set<string>();
  for (const f of sources(join(import.meta.dirname, "../../../src/agent")))
    for (const m of readFileSync(f, "utf8").matchAll(/\[\s*"([a-z][a-z0-9-]*)",/g))
      if (
        [
          "ip",
          "iptables",
          "iptables-restore",
          "sysctl",
          "unshare",
          "bird",
          "birdc",
          "nsenter",
          "tc",
        ].includes(m[1]!)
      )
        found.add(m[1]!);
  return [...found].sort();
}

describe("the calico-node image", () => {
  it("holds every program the agent spawns", () => {
    const node = catalog(inputs).find((s) => s.name === "calico-node")!;
    const names = new Set(
      node.layers.flatMap((l) =>
        l.sources.flatMap((s) =>
          s.kind === "host"
            ? [basename(s.to ?? s.from)]
            : s.kind === "symlink" || s.kind === "text"
              ? [basename(s.path)]
              : [],
        ),
      ),
    );
    const commands = agentCommands();
    assert.ok(commands.includes("ip") && commands.includes("unshare"), commands.join(" "));
    assert.deepEqual(
      commands.filter((c) => !names.has(c)),
      [],
    );
  });
});
