import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, diff, read, remove, update } from "../../../../src/lab/providers/dispatch.ts";
import { KIND_KEY } from "../../../../src/lab/providers/dynamic-kind.ts";

// The one shared provider (dynamic.ts) finds a resource's kind in its outputs on every later call (delete,
// read, diff): create must keep it there, and the handler must never see it.
test("create keeps the kind in the outputs; the handler sees no __ keys; delete finds it again", async () => {
  const dir = mkdtempSync(join(tmpdir(), "dispatch-"));
  try {
    const path = join(dir, "run");
    const res = await create("runFolder", { path, [KIND_KEY]: "runFolder", __provider: "x" });
    assert.equal(res.outs[KIND_KEY], "runFolder");
    assert.deepEqual(Object.keys(res.outs).sort(), [KIND_KEY, "path"].sort());
    assert.ok(existsSync(path));
    assert.deepEqual(await diff("runFolder", res.id, res.outs, { path, [KIND_KEY]: "runFolder" }), {
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    await remove(String(res.outs[KIND_KEY]), res.id, res.outs);
    assert.equal(existsSync(path), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("update and read keep the kind in the outputs too", async () => {
  const dir = mkdtempSync(join(tmpdir(), "dispatch-"));
  try {
    const path = join(dir, "calico.yaml");
    const res = await create("file", { path, content: "a", [KIND_KEY]: "file" });
    const updated = await update("file", res.id, res.outs, { path, content: "b", [KIND_KEY]: "file" });
    assert.equal(updated.outs[KIND_KEY], "file");
    const now = await read("file", res.id, updated.outs);
    assert.equal(now.props[KIND_KEY], "file");
    await remove("file", res.id, now.props);
    assert.equal(existsSync(path), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
