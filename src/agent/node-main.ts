// `calico-node` startup entry: run inside a lab host's namespace (ip netns exec <host> ...) with
// calico-node's environment (NODENAME, ETCD_ENDPOINTS, IP_AUTODETECTION_METHOD, CALICO_IPV4POOL_*, ...).
// Prints the registered Node as JSON on stdout; logs go to stderr.
import { currentNetnsName } from "./cni/workload.ts";
import { runStartup } from "./startup/node.ts";
import { settingsFromEnv } from "./startup/env.ts";

try {
  const netns = await currentNetnsName();
  if (!netns) throw new Error("calico-node must run inside a lab host's named network namespace");
  const result = await runStartup(settingsFromEnv(process.env, netns), (m) => process.stderr.write(`${m}\n`));
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
} catch (e) {
  process.stderr.write(`calico-node startup failed: ${(e as Error).message}\n`);
  process.exit(1);
}
