import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  assignFromBlock,
  blockCidrAt,
  blockCount,
  blockSearchOrder,
  checkBlock,
  ipToOrdinal,
  ipsForHandle,
  newBlock,
  ordinalToIp,
  parseCidr,
  releaseByHandle,
  releaseIps,
  usedCount,
} from "../../../../src/agent/ipam/block.ts";

describe("IPAM block math", () => {
  test("a fresh /26 block: 64 free ordinals in order, Calico's JSON shape", () => {
    const b = newBlock("10.244.137.64/26", "host:node1");
    assert.equal(b.allocations.length, 64);
    assert.deepEqual(b.unallocated.slice(0, 3), [0, 1, 2]);
    assert.deepEqual(Object.keys(b), [
      "cidr",
      "affinity",
      "strictAffinity",
      "allocations",
      "unallocated",
      "attributes",
      "deleted",
    ]);
    assert.equal(ordinalToIp(b, 0), "10.244.137.64");
    assert.equal(ordinalToIp(b, 63), "10.244.137.127");
    assert.equal(ipToOrdinal(b, "10.244.137.65"), 1);
    assert.throws(() => ipToOrdinal(b, "10.244.137.128"), /not in block/);
    assert.throws(() => newBlock("10.244.137.65/26", null), /not a network address/);
  });

  test("lowest free ordinal first; the tunnel address is the block's first IP", () => {
    let b = newBlock("10.244.137.64/26", "host:node1");
    const t = assignFromBlock(b, 1, "ipip-tunnel-addr-node1", { node: "node1", type: "ipipTunnelAddress" });
    assert.deepEqual(t.ips, ["10.244.137.64"]);
    b = t.block;
    const p = assignFromBlock(b, 2, "k8s-pod-network.abc", { node: "node1", pod: "p", namespace: "default" });
    assert.deepEqual(p.ips, ["10.244.137.65", "10.244.137.66"]);
    assert.deepEqual(p.block.allocations.slice(0, 4), [0, 1, 1, null]);
    assert.equal(p.block.attributes.length, 2);
    assert.deepEqual(checkBlock(p.block), []);
  });

  test("released ordinals go to the back of the queue; attributes are compacted", () => {
    let b = newBlock("10.0.0.0/29", "host:n");
    b = assignFromBlock(b, 1, "h0", null).block;
    b = assignFromBlock(b, 1, "h1", null).block;
    b = assignFromBlock(b, 1, "h2", null).block;
    const r = releaseByHandle(b, "h1");
    assert.deepEqual(r.released, ["10.0.0.1"]);
    assert.deepEqual(r.block.unallocated, [3, 4, 5, 6, 7, 1]);
    assert.deepEqual(r.block.allocations.slice(0, 3), [0, null, 1]);
    assert.deepEqual(
      r.block.attributes.map((a) => a.handle_id),
      ["h0", "h2"],
    );
    // Next assignment takes 3, not the just-released 1.
    assert.deepEqual(assignFromBlock(r.block, 1, "h3", null).ips, ["10.0.0.3"]);
    // Releasing again is a no-op.
    assert.deepEqual(releaseByHandle(r.block, "h1").released, []);
    assert.deepEqual(releaseIps(r.block, ["10.0.0.0"]).released, ["10.0.0.0"]);
  });

  test("a full block assigns nothing", () => {
    let b = newBlock("10.0.0.0/30", null);
    b = assignFromBlock(b, 4, "h", null).block;
    assert.deepEqual(assignFromBlock(b, 1, "x", null).ips, []);
    assert.deepEqual(ipsForHandle(b, "h").length, 4);
  });

  test("blocks of a pool, searched from a per-host start, wrapping", () => {
    assert.equal(blockCount("10.244.0.0/16", 26), 1024);
    assert.equal(blockCidrAt("10.244.0.0/16", 26, 0), "10.244.0.0/26");
    assert.equal(blockCidrAt("10.244.0.0/16", 26, 1023), "10.244.255.192/26");
    const order = [...blockSearchOrder("10.0.0.0/24", 26, "node1")];
    assert.equal(order.length, 4);
    assert.equal(new Set(order).size, 4);
    assert.deepEqual([...blockSearchOrder("10.0.0.0/24", 26, "node1")], order, "deterministic");
    assert.throws(() => blockCount("10.0.0.0/24", 20), /does not fit/);
    assert.deepEqual(parseCidr("10.1.2.3/8", false), { base: 0x0a000000n, prefix: 8 });
  });

  test("property: any assign/release sequence keeps the block consistent and never hands out an IP twice", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 9 })), {
          maxLength: 60,
        }),
        (ops) => {
          let b = newBlock("10.9.0.0/28", "host:n");
          const live = new Map<string, string>();
          ops.forEach(([assign, num, h], i) => {
            if (assign) {
              const r = assignFromBlock(b, num, `h${i}`, null);
              for (const ip of r.ips) {
                assert.ok(!live.has(ip), `${ip} handed out twice`);
                live.set(ip, `h${i}`);
              }
              b = r.block;
            } else {
              const handles = [...new Set(live.values())];
              const victim = handles[h % Math.max(1, handles.length)];
              if (victim === undefined) return;
              const r = releaseByHandle(b, victim);
              for (const ip of r.released) live.delete(ip);
              b = r.block;
            }
            assert.deepEqual(checkBlock(b), []);
            assert.equal(usedCount(b), live.size);
          });
        },
      ),
    );
  });
});
