// Pulumi.yaml's entry point. Runs the TypeScript program from its bundle (dist/bin/program.mjs, one ESM file
// built by esbuild: src/build/bundles.ts) and hands Pulumi its main function, whose result becomes the stack
// outputs. A fresh bundle (checked by freshness.mjs, plain JavaScript) is imported straight away: no tsx, no
// compiling ~100 modules on each run. A stale one (a source edited since the last build) is rebuilt first
// through bundles.ts, loaded by tsx; only that costs tsx and esbuild.
import { performance } from "node:perf_hooks";
import { importLibrary } from "./build/freshness.mjs";

// Stack traces are Node's own, mapped to our .ts files through the bundle's source map (as tsx's would be).
// The SDK's runner installs source-map-support, which maps the SDK's frames to .ts files it does not ship
// (…/node_modules/@pulumi/resource.ts) and ours to line 1. On every uncaught error, RunError included, the
// runner formats the error with util.inspect({ colors: true }) for its trace span, and on such a frame Node
// 20.20's inspect loops until the string overflows (nodejs/node#64011, fixed by #64022, not in the 20.x
// line): a config error took 15 s to minutes to appear, all of it spent there.
delete Error.prepareStackTrace;
const { module: program, loaded } = await importLibrary("program");
const { nowMs, recordTiming, timed } = program;
// The program's start for the time budget (bench/lab-cycle): node's own start to the program loaded, and
// whether its bundle was fresh or had to be rebuilt.
recordTiming({ what: "program", op: "load", label: loaded, startMs: performance.timeOrigin, endMs: nowMs() });

export default () => timed("program", "main", undefined, program.main);
