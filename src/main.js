// Pulumi.yaml's entry point. Loads the TypeScript program through tsx (ESM, no build step)
// and hands Pulumi its main function, whose result becomes the stack outputs.
import { performance } from "node:perf_hooks";
import { register } from "tsx/esm/api";

register();
// Stack traces are Node's own, mapped through the source maps tsx enables. The SDK's runner installs
// source-map-support, which maps the SDK's frames to .ts files it does not ship (…/node_modules/@pulumi/
// resource.ts) and ours to line 1. On every uncaught error, RunError included, the runner formats the
// error with util.inspect({ colors: true }) for its trace span, and on such a frame Node 20.20's inspect
// loops until the string overflows (nodejs/node#64011, fixed by #64022, not in the 20.x line): a config
// error took 15 s to minutes to appear, all of it spent there.
delete Error.prepareStackTrace;
const program = await import("./program.ts");
const { nowMs, recordTiming, timed } = await import("./effects/timings.ts");
// The program's start for the time budget (bench/lab-cycle): node's own start to the program loaded.
recordTiming({ what: "program", op: "load", startMs: performance.timeOrigin, endMs: nowMs() });

export default () => timed("program", "main", undefined, program.main);
