// Running calico-node's startup inside a host's namespace (ip netns exec <host> node dist/bin/calico-node.mjs).
import { entryArgv } from "../../build/bundles.ts";
import { assertNetnsName } from "../../effects/names.ts";
import { inNetns, run } from "../../effects/exec.ts";
import type { StartupResult } from "./node.ts";

/** `env` is calico-node's environment: NODENAME, ETCD_ENDPOINTS, IP_AUTODETECTION_METHOD, CALICO_IPV4POOL_*, AS, ... */
export async function runCalicoNodeIn(
  hostNetns: string,
  env: Record<string, string>,
): Promise<StartupResult> {
  const out = await run(inNetns(assertNetnsName(hostNetns), await entryArgv("calico-node")), {
    env,
    timeoutMs: 60_000,
  });
  return JSON.parse(out) as StartupResult;
}
