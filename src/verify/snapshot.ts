// The datastore as verification sees it, read from inside the lab (etcd listens only on lab addresses).
import { fileURLToPath } from "node:url";
import type { Snapshot } from "../agent/felix/plan.ts";
import { inNetns, run } from "../effects/exec.ts";

const SNAPSHOT_MAIN = fileURLToPath(new URL("./snapshot-main.ts", import.meta.url));

export async function readSnapshot(netns: string, endpoint: string): Promise<Snapshot> {
  const out = await run(inNetns(netns, [process.execPath, "--import", "tsx", SNAPSHOT_MAIN, endpoint]), {
    timeoutMs: 30_000,
  });
  return JSON.parse(out) as Snapshot;
}
