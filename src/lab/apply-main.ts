// `calicoctl apply` for the lab: reads Calico resources (JSON array) on stdin and writes each at its key.
// With --delete, removes them. Run inside a lab namespace that reaches etcd:
//   ip netns exec <master> node --import tsx apply-main.ts <endpoint> [--delete] < resources.json
import { Datastore } from "../agent/datastore/etcd.ts";
import { scaledMs } from "./timeouts.ts";
import { resourceKey, type ResourcePlural } from "../agent/datastore/keys.ts";

const PLURAL: Record<string, ResourcePlural> = {
  BGPConfiguration: "bgpconfigurations",
  BGPPeer: "bgppeers",
  IPPool: "ippools",
  FelixConfiguration: "felixconfigurations",
};

const [endpoint, flag] = process.argv.slice(2);
if (!endpoint) {
  process.stderr.write("usage: apply-main.ts <etcd endpoint> [--delete] < resources.json\n");
  process.exit(2);
}
const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
const resources = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
  kind: string;
  metadata: { name: string };
}[];
const ds = new Datastore({ endpoints: endpoint.split(","), retryDeadlineMs: scaledMs(10_000) });
try {
  for (const r of resources) {
    const plural = PLURAL[r.kind];
    if (!plural)
      throw new Error(`cannot apply a ${r.kind}: supported kinds are ${Object.keys(PLURAL).join(", ")}`);
    const key = resourceKey(plural, r.metadata.name);
    await ds.withRetry(`apply ${key}`, async () => {
      for (;;) {
        const cur = await ds.get(key);
        const ok =
          flag === "--delete"
            ? cur === null || (await ds.cas([{ key, rev: cur.rev, delete: true }]))
            : await ds.cas([{ key, rev: cur?.rev ?? "0", value: JSON.stringify(r) }]);
        if (ok) return;
      }
    });
    process.stderr.write(`${flag === "--delete" ? "deleted" : "applied"} ${r.kind} ${r.metadata.name}\n`);
  }
} finally {
  ds.close();
}
