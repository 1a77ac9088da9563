// Prints the datastore snapshot verification derives its expectations from (nodes, pools, blocks), as JSON.
// Run inside a lab namespace that reaches etcd: ip netns exec <master> node --import tsx snapshot-main.ts <endpoint>
import { Datastore } from "../agent/datastore/etcd.ts";
import {
  BLOCK_PREFIX,
  resourcePrefix,
  type AllocationBlock,
  type CalicoNode,
  type IPPool,
} from "../agent/datastore/keys.ts";

const endpoints = (process.argv[2] ?? "").split(",").filter(Boolean);
if (endpoints.length === 0) {
  process.stderr.write("usage: snapshot-main.ts <etcd endpoint[,endpoint…]>\n");
  process.exit(2);
}
const ds = new Datastore({ endpoints, retryDeadlineMs: 5000 });
try {
  const nodes = (await ds.listJson<CalicoNode>(resourcePrefix("nodes"))).map((kv) => kv.value);
  const pools = (await ds.listJson<IPPool>(resourcePrefix("ippools"))).map((kv) => kv.value);
  const blocks = (await ds.listJson<AllocationBlock>(BLOCK_PREFIX)).map((kv) => ({
    cidr: kv.value.cidr,
    affinity: kv.value.affinity,
  }));
  process.stdout.write(JSON.stringify({ nodes, pools, blocks }) + "\n");
} finally {
  ds.close();
}
