// The long-running calico-node of the lab. Run inside a host's namespace:
//   ip netns exec <host> node --import tsx src/agent/daemon/main.ts --manifest <calico.yaml> \
//     --nodename <name> --run-dir <dir> [--label k=v]… [--rr-cluster-id a.b.c.d] [--etcd-endpoints …]
// Usually started through launch.ts (startAgent). Logs go to stderr, one timestamped line each.
// SIGTERM/SIGINT: stop BIRD and exit 0, leaving the dataplane as it is.
import { currentNetnsName } from "../cni/workload.ts";
import { parseDaemonArgs } from "./args.ts";
import { CalicoNodeDaemon, PreflightRefusal } from "./calico-node.ts";

const log = (m: string) => process.stderr.write(`${new Date().toISOString()} calico-node: ${m}\n`);

let agent: CalicoNodeDaemon | null = null;
try {
  const args = parseDaemonArgs(process.argv.slice(2));
  const netns = await currentNetnsName();
  if (!netns)
    throw new Error("the agent must run inside a lab host's named network namespace (ip netns exec)");
  agent = new CalicoNodeDaemon(args, netns, log);
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping BIRD and exiting (the dataplane stays as it is)`);
    void agent!.stop().finally(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  await agent.start();
} catch (e) {
  const err = e as Error;
  log(`${err instanceof PreflightRefusal ? "refusing to start" : "startup failed"}: ${err.message}`);
  await agent?.fail(err).catch(() => undefined);
  process.exit(err instanceof PreflightRefusal ? 3 : 1);
}
