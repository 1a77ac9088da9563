// Builds and checks the lab's process bundles (src/build/bundles.ts).
//   node --import tsx src/build/cli.ts build [name…]   rebuild (all by default), whatever their state
//   node --import tsx src/build/cli.ts ensure [name…]  rebuild only the stale ones (scripts/setup)
//   node --import tsx src/build/cli.ts check [name…]   print each bundle's state; exit 1 when one is stale
import { rmSync } from "node:fs";
import { buildBundle, LAB_BUNDLES, bundlePath, staleReason } from "./bundles.ts";
import { CNI_SHIM, cniShimStale, ensureCniShim } from "./cni-shim.ts";

const [command, ...rest] = process.argv.slice(2);
const names = rest.length > 0 ? rest : Object.keys(LAB_BUNDLES.entries);
const unknown = names.filter((n) => !(n in LAB_BUNDLES.entries));
if (!command || !["build", "ensure", "check"].includes(command) || unknown.length > 0) {
  process.stderr.write(
    (unknown.length > 0 ? `unknown bundle(s): ${unknown.join(", ")}\n` : "") +
      `usage: build|ensure|check [${Object.keys(LAB_BUNDLES.entries).join("|")} …]\n`,
  );
  process.exit(2);
}

let stale = 0;
for (const name of names) {
  const why = staleReason(name);
  if (command === "check") {
    if (why !== null) stale++;
    console.log(`${name.padEnd(16)} ${why === null ? "fresh" : `stale: ${why}`}`);
    continue;
  }
  if (command === "ensure" && why === null) continue;
  const t = performance.now();
  const meta = await buildBundle(name, LAB_BUNDLES);
  console.log(
    `${name.padEnd(16)} ${bundlePath(name)} (${Object.keys(meta.inputs).length} inputs, ` +
      `${(meta.output.size / 1024).toFixed(0)} KiB) in ${(performance.now() - t).toFixed(0)} ms`,
  );
}
// The CNI executable the namespace and VM hosts' pods are wired through (src/build/cni-shim.ts).
if (command !== "check" || rest.length === 0) {
  const why = cniShimStale();
  if (command === "check") {
    if (why !== null) stale++;
    console.log(`${"calico-cni".padEnd(16)} ${why === null ? "fresh" : `stale: ${why}`}`);
  } else if (command === "build" || why !== null) {
    const t = performance.now();
    if (command === "build") rmSync(CNI_SHIM, { force: true });
    console.log(
      `${"calico-cni".padEnd(16)} ${await ensureCniShim()} in ${(performance.now() - t).toFixed(0)} ms`,
    );
  }
}
process.exit(stale > 0 ? 1 : 0);
