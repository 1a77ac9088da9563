// The guard that keeps verification independent of what it verifies: no module src/verify reaches, by
// relative imports (transitively), lies under src/agent. A planner bug must not pass its own check.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const VERIFY = join(ROOT, "src", "verify");
const AGENT = join(ROOT, "src", "agent");

/** Relative import specifiers of a TypeScript module (static, dynamic and `export … from`). */
export function relativeImports(source: string): string[] {
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g;
  for (const m of source.matchAll(re)) out.push(m[1]!);
  return out;
}

/** Every module reachable from `start` by relative imports, with the chain that reached it. */
function reachable(start: string[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const todo = start.map((f) => [f]);
  while (todo.length > 0) {
    const chain = todo.pop()!;
    const file = chain[chain.length - 1]!;
    if (seen.has(file)) continue;
    seen.set(file, chain);
    let src: string;
    try {
      src = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const spec of relativeImports(src)) todo.push([...chain, resolve(dirname(file), spec)]);
  }
  return seen;
}

describe("verification is independent of the agent", () => {
  it("finds relative imports of every form", () => {
    assert.deepEqual(
      relativeImports(
        `import { a } from "../agent/x.ts";\nimport type { B } from './b.ts';\nexport { c } from "./c.ts";\n` +
          `const d = await import("../d.ts");\nimport "./side.ts";\nimport e from "node:fs";`,
      ),
      ["../agent/x.ts", "./b.ts", "./c.ts", "../d.ts", "./side.ts"],
    );
  });

  it("no module under src/verify imports from src/agent, directly or through another module", () => {
    const files = readdirSync(VERIFY)
      .filter((f) => f.endsWith(".ts"))
      .map((f) => join(VERIFY, f));
    assert.ok(files.length > 5, "src/verify has its modules");
    const bad = [...reachable(files).entries()]
      .filter(([f]) => f.startsWith(AGENT + "/"))
      .map(([, chain]) => chain.map((f) => relative(ROOT, f)).join(" -> "));
    assert.deepEqual(bad, [], `src/verify reaches src/agent:\n  ${bad.join("\n  ")}`);
  });
});
