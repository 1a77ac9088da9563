// The datastore as verification sees it, read from inside the lab (etcd listens only on lab addresses) with
// etcd's own client, etcdctl (Debian's etcd-client): neither the agent's datastore code nor a Node process
// (which took a quarter of a second to start for every read). Never throws: an etcd that does not answer is
// a result (`unreachable`), which the lab reports as a check.
import { inNetns, tryRun } from "../effects/exec.ts";
import { scaledMs } from "../lab/timeouts.ts";
import type { DatastoreFacts } from "./calico-rules.ts";
import { FACT_PREFIXES, factsFromKvs, type KeyValue } from "./datastore-facts.ts";

export type DatastoreRead =
  { ok: true; facts: DatastoreFacts; version: string; unreadable: string[] } | { ok: false; reason: string };

/**
 * A gRPC error from the etcd client → a short reason: "connection refused (connect ECONNREFUSED
 * 192.168.19.165:2379)" rather than gRPC's whole sentence. Pure.
 */
export function etcdReason(message: string): string {
  const cause =
    /(connect|read|write) (E[A-Z]+)( \d+\.\d+\.\d+\.\d+:\d+)?/.exec(message)?.[0] ??
    /dial tcp \d+\.\d+\.\d+\.\d+:\d+/.exec(message)?.[0];
  const WHY: [RegExp, string][] = [
    [/ECONNREFUSED|connection refused/, "connection refused"],
    [/EHOSTUNREACH|ENETUNREACH|no route to host|network is unreachable/, "no route to its address"],
    [/ECONNRESET|EPIPE|connection reset|broken pipe/, "the connection was reset"],
    [/DEADLINE_EXCEEDED|ETIMEDOUT|DeadlineExceeded|deadline exceeded|i\/o timeout/, "no answer in time"],
  ];
  const why = WHY.find(([re]) => re.test(message))?.[1];
  if (why) return cause ? `${why} (${cause})` : why;
  return message
    .replace(/^(Error: )+/, "")
    .replace(/\s*Resolution note:.*$/, "")
    .trim();
}

/** What one etcdctl run printed and how it ended. */
export interface EtcdctlRun {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Why an etcdctl run failed: the client's own error (its last JSON log line's, else its last line). Pure. */
function etcdctlReason(r: EtcdctlRun): string {
  const lines = r.stderr.trim().split("\n").filter(Boolean);
  const logged = lines
    .map((l) => {
      try {
        return (JSON.parse(l) as { error?: string }).error;
      } catch {
        return undefined;
      }
    })
    .filter((e): e is string => typeof e === "string")
    .pop();
  const last = lines.filter((l) => !l.startsWith("{")).pop() ?? "";
  const text = logged ? `${logged} ${last}` : last;
  if (!text) return `etcdctl exited with code ${r.exitCode}`;
  return etcdReason(text);
}

const fromBase64 = (s: string) => Buffer.from(s, "base64").toString("utf8");

/**
 * `etcdctl endpoint status -w json` and `etcdctl get --prefix /calico/ -w json` → the facts, or why there
 * are none. Keys outside FACT_PREFIXES are left out. Pure.
 */
export function parseEtcdctlOutput(status: EtcdctlRun, get: EtcdctlRun): DatastoreRead {
  if (status.exitCode !== 0) return { ok: false, reason: etcdctlReason(status) };
  if (get.exitCode !== 0) return { ok: false, reason: etcdctlReason(get) };
  let version = "?";
  let kvs: KeyValue[];
  try {
    const st = JSON.parse(status.stdout) as { Status?: { version?: string } }[];
    version = st.find((e) => e.Status?.version)?.Status?.version ?? "?";
    const got = JSON.parse(get.stdout) as { kvs?: { key: string; value?: string }[] };
    kvs = (got.kvs ?? [])
      .map((kv) => ({ key: fromBase64(kv.key), value: fromBase64(kv.value ?? "") }))
      .filter((kv) => FACT_PREFIXES.some((p) => kv.key.startsWith(p)));
  } catch (e) {
    return { ok: false, reason: `etcdctl printed what is not its JSON: ${(e as Error).message}` };
  }
  const { unreadable, ...facts } = factsFromKvs(kvs);
  return { ok: true, facts, version, unreadable };
}

/** etcdctl's argv for a read of `endpoint`: one dial of 2 s, one call of 3 s (a dead etcd is the answer). */
export function etcdctlArgv(endpoint: string, command: readonly string[]): string[] {
  if (!/^(https?:\/\/)?[\w.:-]+(,(https?:\/\/)?[\w.:-]+)*$/.test(endpoint))
    throw new Error(`not an etcd endpoint list: "${endpoint}"`);
  return [
    "etcdctl",
    `--endpoints=${endpoint}`,
    "--dial-timeout=2s",
    "--command-timeout=3s",
    "-w",
    "json",
    ...command,
  ];
}

export async function readDatastore(netns: string, endpoint: string): Promise<DatastoreRead> {
  const opts = { timeoutMs: scaledMs(30_000) };
  const [status, get] = await Promise.all([
    tryRun(inNetns(netns, etcdctlArgv(endpoint, ["endpoint", "status"])), opts),
    tryRun(inNetns(netns, etcdctlArgv(endpoint, ["get", "--prefix", "/calico/"])), opts),
  ]);
  return parseEtcdctlOutput(status, get);
}
