// Prints the time budget of one timed command from its CALICO_LAB_TIMINGS file (src/bench/time-budget.ts).
//   node --import tsx bench/time-budget.ts <title> <timings.jsonl> <start epoch ms> <end epoch ms>
import { readFileSync } from "node:fs";
import { formatBudget, timeBudget } from "../src/bench/time-budget.ts";
import type { TimingSpan } from "../src/effects/timings.ts";

const [title, file, start, end] = process.argv.slice(2);
const spans = readFileSync(file!, "utf8")
  .split("\n")
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as TimingSpan);
console.log(formatBudget(title!, timeBudget(spans, Number(start), Number(end)), Number(end) - Number(start)));
