// calicoctl for the lab: `ipam show`, `get nodes|ippools|workloadendpoints [-o wide]`,
// `apply -f <file|->`, `delete -f <file|->`, `node status --run-dir <agent run dir>`.
// Datastore from ETCD_ENDPOINTS (and ETCD_CA_CERT_FILE / ETCD_CERT_FILE / ETCD_KEY_FILE), as calicoctl reads it.
// Run it where the endpoints are reachable, e.g. `ip netns exec <stack>-master scripts/calicoctl ipam show`.
// `node status` needs no datastore: it asks the node's BIRD over its control socket.
import { readFileSync } from "node:fs";
import { Datastore } from "../agent/datastore/etcd.ts";
import { inspect, parseInspectArgs } from "../agent/inspect.ts";
import { applyResources, deleteResources, parseResources } from "../agent/datastore/apply.ts";
import { nodeStatus } from "../agent/daemon/launch.ts";

function datastore(): Datastore {
  const endpoints = (process.env.ETCD_ENDPOINTS ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (endpoints.length === 0) throw new Error("set ETCD_ENDPOINTS (e.g. http://192.168.19.165:2379)");
  const ca = process.env.ETCD_CA_CERT_FILE;
  return new Datastore({
    endpoints,
    retryDeadlineMs: 5000,
    ...(ca
      ? { tls: { caFile: ca, certFile: process.env.ETCD_CERT_FILE, keyFile: process.env.ETCD_KEY_FILE } }
      : {}),
  });
}

function fileArg(rest: string[]): string {
  const i = rest.findIndex((a) => a === "-f" || a === "--filename");
  const f = i >= 0 ? rest[i + 1] : rest.find((a) => a.startsWith("--filename="))?.slice(11);
  if (!f) throw new Error("usage: calicoctl apply|delete -f <file.yaml|->");
  return f === "-" ? readFileSync(0, "utf8") : readFileSync(f, "utf8");
}

let ds: Datastore | null = null;
try {
  const [verb, ...rest] = process.argv.slice(2);
  if (verb === "node" && rest[0] === "status") {
    const i = rest.indexOf("--run-dir");
    const dir = i >= 0 ? rest[i + 1] : rest.find((a) => a.startsWith("--run-dir="))?.slice(10);
    if (!dir) throw new Error("usage: calicoctl node status --run-dir <the node's agent run dir>");
    process.stdout.write(await nodeStatus(dir));
  } else if (verb === "apply" || verb === "delete") {
    const resources = parseResources(fileArg(rest));
    ds = datastore();
    if (verb === "apply") {
      await applyResources(ds, resources);
      process.stdout.write(`Successfully applied ${resources.length} resource(s)\n`);
    } else {
      const gone = await deleteResources(ds, resources);
      process.stdout.write(`Successfully deleted ${gone.length} resource(s)\n`);
    }
  } else {
    const cmd = parseInspectArgs(process.argv.slice(2));
    ds = datastore();
    process.stdout.write(await inspect(ds, cmd));
  }
  ds?.close();
  process.exit(0);
} catch (e) {
  ds?.close();
  process.stderr.write(`calicoctl: ${(e as Error).message}\n`);
  process.exit(1);
}
