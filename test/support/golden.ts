// Golden files: expected text lives in test/golden/; UPDATE_GOLDEN=1 rewrites them from the current output.
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "golden");

export async function assertGolden(relPath: string, actual: string): Promise<void> {
  const file = join(GOLDEN_DIR, relPath);
  if (process.env.UPDATE_GOLDEN === "1") {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, actual);
    return;
  }
  let expected: string;
  try {
    expected = await readFile(file, "utf8");
  } catch {
    assert.fail(`golden file ${relPath} is missing: run with UPDATE_GOLDEN=1 to create it, then review it`);
  }
  assert.equal(actual, expected, `output differs from golden file ${relPath}`);
}
