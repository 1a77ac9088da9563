// IPAM allocations per second against a real etcd (started here, removed at the end).
// Usage: node --import tsx bench/ipam-bench.ts [nodes=20] [perNode=100]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startEtcd } from "../src/agent/datastore/etcd-server.ts";
import { Datastore } from "../src/agent/datastore/etcd.ts";
import { Ipam } from "../src/agent/ipam/allocator.ts";

const nodes = Number(process.argv[2] ?? 20);
const perNode = Number(process.argv[3] ?? 100);
const dir = await mkdtemp(join(tmpdir(), "calico-lab-bench-"));
const etcd = await startEtcd({
  name: "bench",
  dataDir: join(dir, "data"),
  address: "127.0.0.1",
  clientPort: await freePort(),
  peerPort: await freePort(),
});
const stores: Datastore[] = [];
try {
  const pools = [{ cidr: "10.244.0.0/16", blockSize: 26 }];
  const run = async (phase: string, fn: (ipam: Ipam, node: string, i: number) => Promise<unknown>) => {
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: nodes }, async (_, n) => {
        const ds = new Datastore({ endpoints: [etcd.endpoint] });
        stores.push(ds);
        const ipam = new Ipam(ds);
        for (let i = 0; i < perNode; i++) await fn(ipam, `node${n + 1}`, i);
      }),
    );
    const s = (performance.now() - t0) / 1000;
    const total = nodes * perNode;
    console.log(
      `${phase}: ${total} in ${s.toFixed(2)} s = ${(total / s).toFixed(0)}/s (${nodes} nodes, one at a time per node)`,
    );
  };
  await run("assign", (ipam, node, i) =>
    ipam.autoAssign({ host: node, handleId: `k8s-pod-network.${node}-${i}`, pools, attrs: { node } }),
  );
  await run("release", (ipam, node, i) => ipam.releaseByHandle(`k8s-pod-network.${node}-${i}`));
} finally {
  for (const ds of stores) ds.close();
  await etcd.stop();
  await rm(dir, { recursive: true, force: true });
}
