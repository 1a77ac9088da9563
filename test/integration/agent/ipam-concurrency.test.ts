// 20 simulated nodes allocate 2,000 pod IPs concurrently against a real etcd: no address twice,
// every node's addresses inside its own blocks; a crash and restart of etcd mid-run changes neither;
// releasing everything leaves no allocation behind.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Datastore } from "../../../src/agent/datastore/etcd.ts";
import { Ipam, type PoolRef } from "../../../src/agent/ipam/allocator.ts";
import { cidrInside, checkBlock, usedCount } from "../../../src/agent/ipam/block.ts";
import { startTestEtcd, type EtcdFixture } from "./etcd-fixture.ts";

const NODES = 20;
const PER_NODE = 100;

/** One allocator per node, each with its own etcd client; allocations on a node are serialized (Calico's host-wide IPAM lock). */
async function allocateAll(
  endpoint: string,
  pools: PoolRef[],
  perNode: number,
  onProgress?: (done: number) => void,
): Promise<{ node: string; handle: string; ips: string[] }[]> {
  const results: { node: string; handle: string; ips: string[] }[] = [];
  let done = 0;
  const stores: Datastore[] = [];
  try {
    await Promise.all(
      Array.from({ length: NODES }, async (_, n) => {
        const node = `node${n + 1}`;
        const ds = new Datastore({ endpoints: [endpoint], retryDeadlineMs: 40_000 });
        stores.push(ds);
        const ipam = new Ipam(ds);
        for (let i = 0; i < perNode; i++) {
          const handle = `k8s-pod-network.${node}-c${i}`;
          const ips = await ipam.autoAssign({
            host: node,
            handleId: handle,
            attrs: { node, pod: `pod-${i}`, namespace: "default" },
            pools,
          });
          results.push({ node, handle, ips });
          onProgress?.(++done);
        }
      }),
    );
  } finally {
    for (const ds of stores) ds.close();
  }
  return results;
}

async function releaseAll(endpoint: string, handles: string[]): Promise<void> {
  const ds = new Datastore({ endpoints: [endpoint] });
  try {
    const ipam = new Ipam(ds);
    const queue = [...handles];
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        for (let h = queue.shift(); h !== undefined; h = queue.shift()) await ipam.releaseByHandle(h);
      }),
    );
    // A second release is a no-op (handles make release idempotent).
    assert.deepEqual(await ipam.releaseByHandle(handles[0] ?? "none"), []);
  } finally {
    ds.close();
  }
}

async function checkNoLeaks(endpoint: string): Promise<void> {
  const ds = new Datastore({ endpoints: [endpoint] });
  try {
    const ipam = new Ipam(ds);
    const blocks = await ipam.listBlocks();
    for (const b of blocks) {
      assert.deepEqual(checkBlock(b), [], `block ${b.cidr} invariants`);
      assert.equal(usedCount(b), 0, `block ${b.cidr} still has allocations`);
      assert.equal(b.attributes.length, 0, `block ${b.cidr} still has attributes`);
    }
    assert.equal((await ds.list("/calico/ipam/v2/handle/")).length, 0, "handles left");
  } finally {
    ds.close();
  }
}

function assertUnique(results: { ips: string[] }[], expected: number): void {
  const all = results.flatMap((r) => r.ips);
  assert.equal(all.length, expected);
  const dupes = all.filter((ip, i) => all.indexOf(ip) !== i);
  assert.equal(new Set(all).size, all.length, `duplicates: ${dupes.slice(0, 5).join(", ")}`);
}

async function affineBlocks(endpoint: string, pool: string): Promise<Map<string, string[]>> {
  const ds = new Datastore({ endpoints: [endpoint] });
  try {
    const map = new Map<string, string[]>();
    for (const b of (await new Ipam(ds).listBlocks()).filter((x) => cidrInside(x.cidr, pool))) {
      const host = b.affinity?.replace(/^host:/, "") ?? "";
      map.set(host, [...(map.get(host) ?? []), b.cidr]);
    }
    return map;
  } finally {
    ds.close();
  }
}

describe("IPAM on real etcd, 20 nodes × 100 pods", { timeout: 240_000 }, () => {
  let etcd: EtcdFixture;
  before(async () => {
    etcd = await startTestEtcd("ipam");
  });
  after(async () => {
    await etcd?.cleanup();
  });

  test("2,000 concurrent allocations: 0 duplicates, each node inside its affine blocks, 0 leaks", async () => {
    const pools = [{ cidr: "10.244.0.0/16", blockSize: 26 }];
    const t0 = Date.now();
    const results = await allocateAll(etcd.endpoint, pools, PER_NODE);
    const secs = (Date.now() - t0) / 1000;
    console.log(
      `  ${results.length} allocations in ${secs.toFixed(1)} s (${(results.length / secs).toFixed(0)}/s)`,
    );
    assertUnique(results, NODES * PER_NODE);
    const blocks = await affineBlocks(etcd.endpoint, pools[0]!.cidr);
    for (const r of results) {
      const mine = blocks.get(r.node) ?? [];
      for (const ip of r.ips) {
        assert.ok(
          mine.some((c) => cidrInside(`${ip}/32`, c)),
          `${ip} of ${r.node} not in its blocks ${mine.join(",")}`,
        );
      }
    }
    for (const [node, cidrs] of blocks)
      assert.equal(cidrs.length, 2, `${node} has blocks ${cidrs.join(",")}`);
    await releaseAll(
      etcd.endpoint,
      results.map((r) => r.handle),
    );
    await checkNoLeaks(etcd.endpoint);
  });

  test("etcd killed and restarted mid-run: still 0 duplicates, 0 leaks after release", async () => {
    const pools = [{ cidr: "10.245.0.0/16", blockSize: 26 }];
    let crashed: Promise<void> | null = null;
    const results = await allocateAll(etcd.endpoint, pools, PER_NODE, (done) => {
      if (done === 600 && !crashed) {
        crashed = (async () => {
          await etcd.crash();
          await new Promise((r) => setTimeout(r, 1500));
          await etcd.restart();
        })();
      }
    });
    assert.ok(crashed, "the crash happened");
    await crashed;
    assertUnique(results, NODES * PER_NODE);
    await releaseAll(
      etcd.endpoint,
      results.map((r) => r.handle),
    );
    await checkNoLeaks(etcd.endpoint);
  });

  test("pool without free blocks: nodes borrow from other nodes' blocks, still unique", async () => {
    // 16 blocks of /28 for 20 nodes: some nodes get no block of their own and must borrow.
    const pools = [{ cidr: "10.246.0.0/24", blockSize: 28 }];
    const results = await allocateAll(etcd.endpoint, pools, 12);
    assertUnique(results, NODES * 12);
    const blocks = await affineBlocks(etcd.endpoint, pools[0]!.cidr);
    const withoutBlock = Array.from({ length: NODES }, (_, i) => `node${i + 1}`).filter(
      (n) => !blocks.has(n),
    );
    assert.ok(withoutBlock.length >= 4, `nodes without a block: ${withoutBlock.join(",")}`);
    for (const r of results) for (const ip of r.ips) assert.ok(cidrInside(`${ip}/32`, pools[0]!.cidr));
    await releaseAll(
      etcd.endpoint,
      results.map((r) => r.handle),
    );
    await checkNoLeaks(etcd.endpoint);
  });
});
