import { test } from "node:test";
import assert from "node:assert/strict";
import { formatBudget, timeBudget } from "../../../src/bench/time-budget.ts";

test("the budget: engine, program, provider, each kind's window with its count and sum, checks, the tail", () => {
  const t = 1_000_000;
  const spans = [
    { what: "program", op: "load", startMs: t + 500, endMs: t + 1500 },
    { what: "program", op: "main", startMs: t + 1500, endMs: t + 1800 },
    { what: "provider", op: "load", startMs: t + 2000, endMs: t + 2800 },
    { what: "pod", op: "create", label: "b", startMs: t + 3100, endMs: t + 3400 },
    { what: "netns", op: "create", label: "m", startMs: t + 2800, endMs: t + 2900 },
    { what: "pod", op: "create", label: "a", startMs: t + 3000, endMs: t + 3300 },
    { what: "verification", op: "create", startMs: t + 3400, endMs: t + 3900 },
    { what: "verify", op: "run", label: "bgp", startMs: t + 3400, endMs: t + 3450 },
  ];
  const lines = timeBudget(spans, t, t + 4000);
  assert.deepEqual(
    lines.map((l) => [l.label, l.ms, l.count, l.sumMs]),
    [
      ["engine start to program start", 500, undefined, undefined],
      ["program load (Pulumi SDK, program bundle)", 1000, undefined, undefined],
      ["program main (config, manifest, preflight)", 300, undefined, undefined],
      ["engine to provider process start", 200, undefined, undefined],
      ["provider load (Pulumi SDK, handler bundle)", 800, undefined, undefined],
      ["netns create", 100, 1, 100],
      ["pods (netns, CNI, echo server) create", 400, 2, 600],
      ["verification create", 500, 1, 500],
      ["  check bgp", 50, undefined, undefined],
      ["engine after the last operation", 100, undefined, undefined],
    ],
  );
  const text = formatBudget("up", lines, 4000);
  assert.match(text, /^up: 4\.00 s\n/);
  assert.match(text, /pods \(netns, CNI, echo server\) create\s+0\.40 s {2}\(2 at once, 0\.60 s summed\)/);
});
