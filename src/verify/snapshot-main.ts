// Reads the datastore facts verification needs straight from etcd (the etcd3 client, not the agent's
// datastore code) and prints them as one JSON line: {"status":{…},"kvs":[…]}, or {"error":"…"} with exit
// code 3 when etcd does not answer. Run inside a lab namespace that reaches etcd:
//   ip netns exec <master> node dist/bin/snapshot.mjs <endpoint[,endpoint…]>
import { Etcd3, type IOptions } from "etcd3";
import { FACT_PREFIXES, type KeyValue } from "./datastore-facts.ts";

const CALL_MS = 3000;
const endpoints = (process.argv[2] ?? "").split(",").filter(Boolean);
if (endpoints.length === 0) {
  process.stderr.write("usage: snapshot-main.ts <etcd endpoint[,endpoint…]>\n");
  process.exit(2);
}
type Policy = NonNullable<NonNullable<IOptions["faultHandling"]>["global"]>;
/** One try per call, no circuit breaker: a dead etcd is the answer, not something to wait out. */
const once = {
  execute: <T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T) =>
    Promise.resolve().then(() => fn({ signal: new AbortController().signal })),
  onSuccess: () => ({ dispose() {} }),
  onFailure: () => ({ dispose() {} }),
} as unknown as Policy;
const client = new Etcd3({
  hosts: endpoints,
  dialTimeout: 2000,
  faultHandling: { host: () => once, global: once },
  defaultCallOptions: () => ({ deadline: Date.now() + CALL_MS }),
});
let code = 0;
try {
  // A real request first: the member's status (etcd answers, and with which version).
  const st = await client.maintenance.status();
  const kvs: KeyValue[] = [];
  for (const prefix of FACT_PREFIXES) {
    const got = await client.getAll().prefix(prefix).strings();
    for (const [key, value] of Object.entries(got)) kvs.push({ key, value });
  }
  const status = { version: st.version, revision: st.header.revision, dbSize: Number(st.dbSize) };
  process.stdout.write(JSON.stringify({ status, kvs }) + "\n");
} catch (e) {
  const err = e as Error;
  process.stdout.write(JSON.stringify({ error: `${err.name}: ${err.message}`.split("\n")[0] }) + "\n");
  code = 3;
} finally {
  client.close();
}
process.exit(code);
