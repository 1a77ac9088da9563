// calicoctl for the lab: `ipam show`, `get nodes|ippools|workloadendpoints [-o wide]`.
// Datastore from ETCD_ENDPOINTS (and ETCD_CA_CERT_FILE / ETCD_CERT_FILE / ETCD_KEY_FILE), as calicoctl reads it.
// Run it where the endpoints are reachable, e.g. `ip netns exec <stack>-master scripts/calicoctl ipam show`.
import { Datastore } from "../agent/datastore/etcd.ts";
import { inspect, parseInspectArgs } from "../agent/inspect.ts";

let ds: Datastore | null = null;
try {
  const cmd = parseInspectArgs(process.argv.slice(2));
  const endpoints = (process.env.ETCD_ENDPOINTS ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (endpoints.length === 0) throw new Error("set ETCD_ENDPOINTS (e.g. http://192.168.19.165:2379)");
  const ca = process.env.ETCD_CA_CERT_FILE;
  ds = new Datastore({
    endpoints,
    retryDeadlineMs: 5000,
    ...(ca
      ? { tls: { caFile: ca, certFile: process.env.ETCD_CERT_FILE, keyFile: process.env.ETCD_KEY_FILE } }
      : {}),
  });
  process.stdout.write(await inspect(ds, cmd));
  ds.close();
  process.exit(0);
} catch (e) {
  ds?.close();
  process.stderr.write(`calicoctl: ${(e as Error).message}\n`);
  process.exit(1);
}
