import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordTiming, timed, TIMINGS_ENV } from "../../../src/effects/timings.ts";

test("a span is one JSON line in the file CALICO_LAB_TIMINGS names, also when the timed call throws", async () => {
  const dir = mkdtempSync(join(tmpdir(), "timings-"));
  const file = join(dir, "t.jsonl");
  const saved = process.env[TIMINGS_ENV];
  process.env[TIMINGS_ENV] = file;
  try {
    assert.equal(await timed("pod", "create", "busybox-1", async () => 7), 7);
    await assert.rejects(
      timed("agent", "delete", undefined, () => Promise.reject(new Error("gone"))),
      /gone/,
    );
    const spans = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      spans.map((s) => [s.what, s.op, s.label]),
      [
        ["pod", "create", "busybox-1"],
        ["agent", "delete", undefined],
      ],
    );
    for (const s of spans) assert.ok(s.endMs >= s.startMs && s.startMs > 1.7e12, JSON.stringify(s));
  } finally {
    if (saved === undefined) delete process.env[TIMINGS_ENV];
    else process.env[TIMINGS_ENV] = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});

test("without CALICO_LAB_TIMINGS nothing is written", () => {
  const dir = mkdtempSync(join(tmpdir(), "timings-"));
  try {
    recordTiming({ what: "x", op: "run", startMs: 1, endMs: 2 }, {});
    assert.equal(existsSync(join(dir, "t.jsonl")), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
