// The fault bench (issue 14): for each fault, the pod traffic lost across nodes (pings every 50 ms,
// busybox-1 on worker-1 -> busybox-2 on worker-2) and the time until the fault's own recovery condition
// holds, or "not recovered within N s" (then the lab is restored, by hand or with `pulumi up --refresh`,
// so the next fault starts from a healthy lab). Prints figures and a table; asserts nothing.
// Usage (root): bash bench/faults [--stack NAME] [--within-s 10] [--cap-s 900] [--faults id,id,...]
//   --stack NAME: a running lab to reuse (left running); default: brings up "ft-bgp" (stacks/Pulumi.bgp.yaml)
//   and destroys it at the end, on failure and on SIGINT too.
import { execFileSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import {
  FAULTS,
  FaultSession,
  calibration,
  faultById,
  type Fault,
  type FaultResult,
} from "../test/support/faults.ts";
import {
  formatIpam,
  formatVerify,
  ipMonitors,
  ipamCheck,
  podAddresses,
  runVerify,
} from "../test/support/faults-lab.ts";
import { LabStack } from "../test/support/lab-stack.ts";
import { REPO_ROOT } from "../test/support/pulumi-env.ts";

interface Args {
  stack?: string;
  withinMs: number;
  capMs: number;
  faults: Fault[];
}

function parseArgs(argv: string[]): Args {
  const a: Args = { withinMs: 10_000, capMs: 900_000, faults: [...FAULTS] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[++i];
    if (v === undefined) throw new Error(`${k} needs a value`);
    if (k === "--stack") a.stack = v;
    else if (k === "--within-s") a.withinMs = Number(v) * 1000;
    else if (k === "--cap-s") a.capMs = Number(v) * 1000;
    else if (k === "--faults") a.faults = v.split(",").map(faultById);
    else throw new Error(`unknown option ${k}`);
  }
  return a;
}

const t0 = Date.now();
const log = (m: string) =>
  process.stderr.write(`[faults +${((Date.now() - t0) / 1000).toFixed(1)} s] ${m}\n`);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");

function pad(rows: string[][]): string {
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows.map((r) => `| ${r.map((v, c) => v.padEnd(w[c]!)).join(" | ")} |`).join("\n");
}

interface Row {
  fault: string;
  lost: string;
  recovered: string;
  note: string;
}

function rowOf(r: FaultResult, verify: string, extra: string[]): Row {
  const l = r.loss;
  const lost = `${l.lostMs} (${l.lostProbes} of ${l.probes} probes)${l.ongoing ? " still losing" : ""}`;
  const recovered =
    r.recoveredMs === null
      ? `not recovered within ${r.withinMs / 1000} s`
      : `${(r.recoveredMs / 1000).toFixed(2)} s`;
  const notes = [
    ...(r.fault.id === "link-flap" ? ["timed from link up; lost ms include the 10 s down"] : []),
    ...(r.restored ? [`restored: ${r.restored}`] : []),
    ...extra,
    verify,
    `IPAM: ${formatIpam(r.ipam)}`,
    `longest gap ${l.longestGapMs} ms, probe interval ${l.intervalMs} ms`,
  ];
  return { fault: r.fault.title, lost, recovered, note: notes.join("; ") };
}

const args = parseArgs(process.argv.slice(2));
const commit = execFileSync("git", ["-C", REPO_ROOT, "rev-parse", "--short", "HEAD"], {
  encoding: "utf8",
}).trim();
const dirty = execFileSync("git", ["-C", REPO_ROOT, "status", "--porcelain", "--untracked-files=no"], {
  encoding: "utf8",
}).trim();
const rows: Row[] = [];
let labStack: LabStack | undefined;
const owned = args.stack === undefined;
let cleaning: Promise<void> | undefined;

async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    if (labStack && owned) {
      log(`destroying ${labStack.name}`);
      await labStack
        .remove()
        .catch((e: Error) => log(`destroy: ${e.message.split("\n").slice(-3).join(" | ")}`));
    }
  })();
  return cleaning;
}

function printTable(title: string): void {
  const out = [
    "",
    `fault bench: ${title}`,
    `date ${new Date().toISOString()}, commit ${commit}${dirty ? " (+ uncommitted changes)" : ""}, ` +
      `${cpus().length} cores, load at end ${load()}, pings every 50 ms ${"busybox-1 (worker-1) -> busybox-2 (worker-2)"}`,
    "",
    pad([
      ["fault", "lost ms", "recovered in", "note"],
      ...rows.map((r) => [r.fault, r.lost, r.recovered, r.note]),
    ]),
    "",
  ];
  process.stdout.write(out.join("\n"));
}

const cap = setTimeout(() => {
  log(`global cap of ${args.capMs / 1000} s reached: stopping`);
  printTable("STOPPED at the global cap (partial)");
  void cleanup().then(() => process.exit(1));
}, args.capMs);
cap.unref();
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    log(`${sig}: cleaning up`);
    printTable(`interrupted by ${sig} (partial)`);
    void cleanup().then(() => process.exit(130));
  });
}

try {
  labStack = await LabStack.open(args.stack ?? "ft-bgp", owned ? { copyFrom: "bgp" } : {});
  log(`load before: ${load()}`);
  let lab;
  if (owned) {
    log(`pulumi up ${labStack.name}`);
    const up = await labStack.up();
    if (!up.ok || !up.lab) throw new Error(`could not bring up ${labStack.name}: ${up.text}`);
    log(`up in ${(up.durationMs / 1000).toFixed(1)} s: ${up.text}`);
    lab = up.lab;
  } else lab = await labStack.lab();
  const session = await FaultSession.start(lab, () => labStack!.up(true), log);
  const before = await ipamCheck(session.lab, session.baseline.podIps);
  log(`IPAM before: ${formatIpam(before)}; pods ${JSON.stringify(session.baseline.podIps)}`);

  for (const fault of [calibration(500), ...args.faults]) {
    log(`fault ${fault.id}: ${fault.title} (load ${load()})`);
    const ipMonitorsBefore = fault.id === "agent" ? await ipMonitors(session.lab, "worker-1") : 0;
    const r = await session.run(fault, fault.id === "calibration" ? 1000 : args.withinMs);
    const extra: string[] = [];
    if (fault.id === "calibration") extra.push(r.detail);
    if (fault.id === "agent") {
      const n = await ipMonitors(session.lab, "worker-1");
      extra.push(`ip monitor processes in worker-1: ${ipMonitorsBefore} before, ${n} after`);
    }
    if (fault.id === "pod-netns")
      extra.push(`pod IPs now: ${JSON.stringify(await podAddresses(session.lab))}`);
    if (fault.daemon) extra.push(`killed ${r.detail}`);
    const v =
      fault.id === "calibration" ? "verify not run" : formatVerify(await runVerify(session.lab.stack));
    rows.push(rowOf(r, v, extra));
    log(
      `  lost ${r.loss.lostMs} ms (${r.loss.lostProbes} probes); ${rows[rows.length - 1]!.recovered}; ${v}`,
    );
  }
  printTable(
    `${args.faults.length} faults on ${labStack.name}, recovery awaited up to ${args.withinMs / 1000} s each`,
  );
  clearTimeout(cap);
} catch (e) {
  log(`FAILED: ${(e as Error).message}`);
  printTable("FAILED (partial)");
  process.exitCode = 1;
} finally {
  await cleanup();
  log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
