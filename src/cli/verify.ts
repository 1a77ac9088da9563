// `scripts/verify [stack] [--json]`: re-runs the lab's verification against a running stack, outside
// `pulumi up`. The plan comes from the stack's config, the pods from its outputs; prints a summary per
// category, the failures with what was expected and seen, the capture's verdict, and writes the reports.
// Exit: 0 all checks passed, 1 a check failed, 2 the stack is not up or the arguments are wrong.
import { realpathSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describePacket } from "../verify/capture.ts";
import { CATEGORIES } from "../verify/checks/index.ts";
import { verifyLab, type LabReport } from "../verify/lab.ts";
import { writeReports } from "../verify/report.ts";
import { readStack, StackNotUpError } from "./stack-info.ts";

export interface VerifyArgs {
  stack: string;
  json: boolean;
  deadlineMs: number;
}

export const VERIFY_USAGE = "usage: scripts/verify [stack] [--json] [--deadline-ms N]   (default stack: bgp)";

export function parseVerifyArgs(argv: readonly string[]): VerifyArgs {
  const out: VerifyArgs = { stack: "bgp", json: false, deadlineMs: 10_000 };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--json") out.json = true;
    else if (a === "--deadline-ms") {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n <= 0)
        throw new Error(`--deadline-ms needs a positive integer\n${VERIFY_USAGE}`);
      out.deadlineMs = n;
    } else if (a === "-h" || a === "--help") throw new Error(VERIFY_USAGE);
    else if (a.startsWith("-")) throw new Error(`unknown option ${a}\n${VERIFY_USAGE}`);
    else positional.push(a);
  }
  if (positional.length > 1) throw new Error(`one stack at a time\n${VERIFY_USAGE}`);
  if (positional[0]) out.stack = positional[0];
  return out;
}

/** The readable summary: one line per category, then every failure, then the capture's verdict. */
export function formatVerifySummary(report: LabReport, files?: { markdown: string; html: string }): string {
  const passed = report.checks.filter((c) => c.ok).length;
  const L: string[] = [
    `lab "${report.stack}" (${report.mode}): ${report.ok ? "verified" : "FAILED"}, ` +
      `${passed} of ${report.checks.length} checks passed in ${(report.durationMs / 1000).toFixed(1)} s`,
    "",
  ];
  for (const { category: cat } of CATEGORIES) {
    const cs = report.checks.filter((c) => c.category === cat);
    if (cs.length === 0) continue;
    const ok = cs.filter((c) => c.ok).length;
    const cross = cs.filter((c) => c.crossNode).length;
    L.push(
      `  ${ok === cs.length ? "ok  " : "FAIL"} ${cat.padEnd(9)} ${String(ok).padStart(4)}/${cs.length}` +
        (cross > 0 ? `  (${cross} cross-node)` : ""),
    );
  }
  const failed = report.checks.filter((c) => !c.ok);
  if (failed.length > 0) {
    L.push("", `failures (${failed.length}):`);
    for (const c of failed)
      L.push(`  - [${c.category}] ${c.name}`, `    expected: ${c.expected}`, `    seen:     ${c.seen}`);
    if (failed.some((c) => c.category === "daemons"))
      L.push(
        "",
        `a daemon is down: \`pulumi up --refresh --stack ${report.stack}\` starts what is gone again ` +
          "(after `. scripts/lib/env.sh`), then verify again",
      );
  }
  L.push("");
  if (report.capture)
    L.push(
      `capture: ${report.capture.from} -> ${report.capture.to} on the underlay: ${describePacket(report.capture.packet)}`,
    );
  else L.push("capture: none (no cross-node pod pair)");
  if (files) L.push(`reports: ${files.markdown}`, `         ${files.html}`);
  return L.join("\n");
}

async function main(argv: readonly string[]): Promise<number> {
  let args: VerifyArgs;
  try {
    args = parseVerifyArgs(argv);
  } catch (e) {
    process.stderr.write(`verify: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    const info = await readStack(args.stack);
    const report = await verifyLab(info.plan, info.pods, {
      deadlineMs: args.deadlineMs,
      runDir: info.runDir,
      hostRunDir: (h) => join(info.runDir, h),
    });
    const files = await writeReports(info.runDir, info.plan, info.pods, report);
    if (args.json) process.stdout.write(`${JSON.stringify({ ...report, reports: files }, null, 2)}\n`);
    else process.stdout.write(`${formatVerifySummary(report, files)}\n`);
    return report.ok ? 0 : 1;
  } catch (e) {
    process.stderr.write(`verify: ${(e as Error).message}\n`);
    return e instanceof StackNotUpError ? 2 : 1;
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(await main(process.argv.slice(2)));
}
