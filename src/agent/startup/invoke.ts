// Running calico-node's startup inside a host's namespace (ip netns exec <host> node ... node-main.ts).
import { fileURLToPath } from "node:url";
import { assertNetnsName } from "../../effects/names.ts";
import { inNetns, run } from "../../effects/exec.ts";
import type { StartupResult } from "./node.ts";

const NODE_MAIN = fileURLToPath(new URL("../node-main.ts", import.meta.url));
const TSX_LOADER = fileURLToPath(new URL("../../../node_modules/tsx/dist/loader.mjs", import.meta.url));

/** `env` is calico-node's environment: NODENAME, ETCD_ENDPOINTS, IP_AUTODETECTION_METHOD, CALICO_IPV4POOL_*, AS, ... */
export async function runCalicoNodeIn(
  hostNetns: string,
  env: Record<string, string>,
): Promise<StartupResult> {
  const out = await run(
    inNetns(assertNetnsName(hostNetns), [process.execPath, "--import", TSX_LOADER, NODE_MAIN]),
    {
      env,
      timeoutMs: 60_000,
    },
  );
  return JSON.parse(out) as StartupResult;
}
