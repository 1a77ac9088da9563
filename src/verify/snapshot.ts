// The datastore as verification sees it, read from inside the lab (etcd listens only on lab addresses).
// Never throws: an etcd that does not answer is a result (`unreachable`), which the lab reports as a check.
import { entryArgv } from "../build/bundles.ts";
import { inNetns, tryRun } from "../effects/exec.ts";
import { scaledMs } from "../lab/timeouts.ts";
import type { DatastoreFacts } from "./calico-rules.ts";
import { factsFromKvs, type KeyValue } from "./datastore-facts.ts";

export type DatastoreRead =
  { ok: true; facts: DatastoreFacts; version: string; unreadable: string[] } | { ok: false; reason: string };

/**
 * A gRPC error from the etcd client → a short reason: "connection refused (connect ECONNREFUSED
 * 192.168.19.165:2379)" rather than gRPC's whole sentence. Pure.
 */
export function etcdReason(message: string): string {
  const cause = /(connect|read|write) (E[A-Z]+)( \d+\.\d+\.\d+\.\d+:\d+)?/.exec(message)?.[0];
  const WHY: [RegExp, string][] = [
    [/ECONNREFUSED/, "connection refused"],
    [/EHOSTUNREACH|ENETUNREACH/, "no route to its address"],
    [/ECONNRESET|EPIPE/, "the connection was reset"],
    [/DEADLINE_EXCEEDED|ETIMEDOUT/, "no answer in time"],
  ];
  const why = WHY.find(([re]) => re.test(message))?.[1];
  if (why) return cause ? `${why} (${cause})` : why;
  return message
    .replace(/^(Error: )+/, "")
    .replace(/\s*Resolution note:.*$/, "")
    .trim();
}

/** What the reader printed → the facts, or why there are none. Pure. */
export function parseSnapshotOutput(stdout: string, stderr: string, exitCode: number): DatastoreRead {
  const line = stdout.trim().split("\n").pop() ?? "";
  let out: { error?: string; status?: { version?: string }; kvs?: KeyValue[] } | undefined;
  try {
    out = JSON.parse(line) as typeof out;
  } catch {
    out = undefined;
  }
  if (out?.error) return { ok: false, reason: etcdReason(out.error) };
  if (exitCode !== 0 || !out?.kvs) {
    const why = (stderr.trim().split("\n").filter(Boolean).pop() ?? "").trim();
    return { ok: false, reason: `the datastore reader exited with code ${exitCode}${why ? `: ${why}` : ""}` };
  }
  const { unreadable, ...facts } = factsFromKvs(out.kvs);
  return { ok: true, facts, version: out.status?.version ?? "?", unreadable };
}

export async function readDatastore(netns: string, endpoint: string): Promise<DatastoreRead> {
  const r = await tryRun(inNetns(netns, [...(await entryArgv("snapshot")), endpoint]), {
    timeoutMs: scaledMs(30_000),
  });
  return parseSnapshotOutput(r.stdout, r.stderr, r.exitCode);
}
