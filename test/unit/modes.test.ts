// A new mode (and a new encapsulation) is a typed entry, and the compiler names every place it needs:
// the test adds "geneve" to a copy of src/ and reads what `tsc` says is missing.
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

async function tscErrorsWithScratchMode(): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), "scratch-mode-"));
  try {
    await cp(join(ROOT, "src"), join(dir, "src"), { recursive: true });
    await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"));
    const tsconfig = JSON.parse(await readFile(join(ROOT, "tsconfig.json"), "utf8")) as { include: string[] };
    tsconfig.include = ["src/**/*.ts"];
    await writeFile(join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
    await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    const modes = join(dir, "src", "modes.ts");
    const before = await readFile(modes, "utf8");
    const after = before
      .replace('"vxlan", "crosssubnet"] as const', '"vxlan", "crosssubnet", "geneve"] as const')
      .replace('"ipip" | "vxlan" | "plain";', '"ipip" | "vxlan" | "plain" | "geneve";');
    assert.notEqual(
      after,
      before,
      "src/modes.ts no longer declares MODES and Encapsulation as this test expects",
    );
    await writeFile(modes, after);
    const out = await promisify(execFile)(
      process.execPath,
      [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", dir],
      {
        cwd: dir,
      },
    ).then(
      () => "",
      (e: { stdout?: string }) => e.stdout ?? "",
    );
    return out
      .split("\n")
      .filter((l) => /error TS/.test(l))
      .map(
        (l) =>
          l.replace(/\(\d+,\d+\).*$/, "") + " " + (/'(\w+)' is missing|Property '(\w+)'/.exec(l)?.[0] ?? ""),
      );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("a scratch mode and encapsulation: tsc names the mode table, the report's and the capture's encapsulation tables, nothing else", async () => {
  const errors = await tscErrorsWithScratchMode();
  const places = errors.map((e) => e.split(" ")[0]).sort();
  assert.deepEqual(places, ["src/modes.ts", "src/modes.ts", "src/verify/capture.ts"], errors.join("\n"));
  for (const e of errors) assert.match(e, /geneve/, e);
});
