// The guard that keeps verification independent of what it verifies: no module src/verify reaches, by
// relative imports (transitively), lies under src/agent. A planner bug must not pass its own check.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { SRC_ROOT, importGraph, relativeImports } from "../../../src/verify/checks/version.ts";

/** Every module under src/verify, its subfolders included, relative to src/. */
function verifyModules(): string[] {
  return readdirSync(join(SRC_ROOT, "verify"), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join("verify", f));
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
    const files = verifyModules();
    assert.ok(files.length > 5, "src/verify has its modules");
    assert.ok(files.includes(join("verify", "checks", "index.ts")), "the walk includes the checks' folder");
    const bad = [...importGraph(SRC_ROOT, files).entries()]
      .filter(([f]) => f.startsWith(join("agent", "")))
      .map(([, chain]) => chain.join(" -> "));
    assert.deepEqual(bad, [], `src/verify reaches src/agent:\n  ${bad.join("\n  ")}`);
  });
});
