// Builds the kubeadm cluster's images (src/images/catalog.ts) as OCI archives for `ctr images import`.
//   node --import tsx src/images/cli.ts build [--out DIR] [name…]   build what is stale (all by default)
//   node --import tsx src/images/cli.ts list [--out DIR]            print name, ref, archive of each built image
// DIR defaults to .tools/images. Exit 1 when an image could not be built (its input is missing).
import { join } from "node:path";
import { REPO_ROOT } from "../build/bundles.ts";
import { buildImages, readImagesIndex } from "./build.ts";
import { catalog, IMAGE_NAMES, type ImageName } from "./catalog.ts";
import { catalogInputs, expectedPauseRef } from "./inputs.ts";

const usage = `usage: build [--out DIR] [${IMAGE_NAMES.join("|")} …] | list [--out DIR]`;

function parse(argv: string[]): { command: string; out: string; names: ImageName[] } {
  const [command = "", ...rest] = argv;
  let out = join(REPO_ROOT, ".tools", "images");
  const names: ImageName[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === "--out" && rest[i + 1]) out = rest[++i]!;
    else if ((IMAGE_NAMES as readonly string[]).includes(a)) names.push(a as ImageName);
    else throw new Error(`unknown argument "${a}"\n${usage}`);
  }
  if (command !== "build" && command !== "list") throw new Error(usage);
  return { command, out, names };
}

try {
  const { command, out, names } = parse(process.argv.slice(2));
  if (command === "list") {
    for (const [name, img] of Object.entries(readImagesIndex(out).images))
      console.log(`${name.padEnd(24)} ${img.ref} ${join(out, img.archive)}`);
    process.exit(0);
  }
  const pause = expectedPauseRef();
  console.log(`pause image ${pause.ref}: ${pause.source}`);
  const specs = catalog(catalogInputs(REPO_ROOT, pause.ref)).filter(
    (s) => names.length === 0 || names.includes(s.name),
  );
  const t = performance.now();
  const outcomes = await buildImages({ root: REPO_ROOT, outDir: out, log: (l) => console.log(l) }, specs);
  const count = (s: string) => outcomes.filter((o) => o.state === s).length;
  console.log(
    `images in ${out}: ${count("built")} built, ${count("fresh")} fresh, ${count("skipped")} skipped, in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  process.exit(count("skipped") > 0 ? 1 : 0);
} catch (e) {
  process.stderr.write(`images: ${(e as Error).message}\n`);
  process.exit(1);
}
