// The datastore as verification sees it, read from inside the lab (etcd listens only on lab addresses).
import { entryArgv } from "../build/bundles.ts";
import type { Snapshot } from "../agent/felix/plan.ts";
import { inNetns, run } from "../effects/exec.ts";
import { scaledMs } from "../lab/timeouts.ts";

export async function readSnapshot(netns: string, endpoint: string): Promise<Snapshot> {
  const out = await run(inNetns(netns, [...(await entryArgv("snapshot")), endpoint]), {
    timeoutMs: scaledMs(30_000),
  });
  return JSON.parse(out) as Snapshot;
}
