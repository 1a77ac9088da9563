// The supervisor process of one lab service (see supervisor.ts), started detached by a provider:
//   node dist/bin/supervise.mjs --name <name> --run-dir <dir> [--grace-ms N] [--status-json F]
//     [--cwd DIR] [--final-exit-codes 3,…] -- <argv of the service…>
// SIGTERM or SIGINT: stop the service, then exit 0.
import { parseSuperviseArgs } from "./args.ts";
import { Supervisor } from "./supervisor.ts";

try {
  const sup = new Supervisor(parseSuperviseArgs(process.argv.slice(2)), () => process.exit(0));
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    sup.log(`${sig}: stopping the service`);
    void sup.stop().finally(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGHUP", () => undefined);
  await sup.start();
} catch (e) {
  process.stderr.write(`supervise: ${(e as Error).message}\n`);
  process.exit(2);
}
