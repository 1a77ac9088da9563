// Builds and checks the lab's process bundles (src/build/bundles.ts) and its Go programs
// (src/build/go-programs.ts: calico-cni, supervise).
//   node --import tsx src/build/cli.ts build [name…]   rebuild (all by default), whatever their state
//   node --import tsx src/build/cli.ts ensure [name…]  rebuild only the stale ones (scripts/setup)
//   node --import tsx src/build/cli.ts check [name…]   print each one's state; exit 1 when one is stale
import { buildBundle, LAB_BUNDLES, bundlePath, staleReason } from "./bundles.ts";
import { ensureGoProgram, GO_PROGRAMS, goProgramStale, type GoProgramName } from "./go-programs.ts";

const bundles = Object.keys(LAB_BUNDLES.entries);
const goPrograms = Object.keys(GO_PROGRAMS) as GoProgramName[];
const isGo = (n: string): n is GoProgramName => n in GO_PROGRAMS;
const [command, ...rest] = process.argv.slice(2);
const names = rest.length > 0 ? rest : [...bundles, ...goPrograms];
const unknown = names.filter((n) => !(n in LAB_BUNDLES.entries) && !isGo(n));
if (!command || !["build", "ensure", "check"].includes(command) || unknown.length > 0) {
  process.stderr.write(
    (unknown.length > 0 ? `unknown bundle(s) or program(s): ${unknown.join(", ")}\n` : "") +
      `usage: build|ensure|check [${[...bundles, ...goPrograms].join("|")} …]\n`,
  );
  process.exit(2);
}

let stale = 0;
for (const name of names) {
  const why = isGo(name) ? goProgramStale(name) : staleReason(name);
  if (command === "check") {
    if (why !== null) stale++;
    console.log(`${name.padEnd(16)} ${why === null ? "fresh" : `stale: ${why}`}`);
    continue;
  }
  if (command === "ensure" && why === null) continue;
  const t = performance.now();
  if (isGo(name)) {
    const path = await ensureGoProgram(name, { force: command === "build" });
    console.log(`${name.padEnd(16)} ${path} in ${(performance.now() - t).toFixed(0)} ms`);
    continue;
  }
  const meta = await buildBundle(name, LAB_BUNDLES);
  console.log(
    `${name.padEnd(16)} ${bundlePath(name)} (${Object.keys(meta.inputs).length} inputs, ` +
      `${(meta.output.size / 1024).toFixed(0)} KiB) in ${(performance.now() - t).toFixed(0)} ms`,
  );
}
process.exit(stale > 0 ? 1 : 0);
