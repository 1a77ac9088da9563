import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  blockAffinityKey,
  blockCidrFromKey,
  blockKey,
  handleKey,
  parseBlockAffinityKey,
  resourceKey,
  workloadEndpointName,
} from "../../../../src/agent/datastore/keys.ts";

describe("Calico etcdv3 key layout", () => {
  test("resources", () => {
    assert.equal(resourceKey("nodes", "node1"), "/calico/resources/v3/projectcalico.org/nodes/node1");
    assert.equal(
      resourceKey("ippools", "default-ipv4-ippool"),
      "/calico/resources/v3/projectcalico.org/ippools/default-ipv4-ippool",
    );
    assert.equal(
      resourceKey("workloadendpoints", "node1-k8s-pod1-eth0", "default"),
      "/calico/resources/v3/projectcalico.org/workloadendpoints/default/node1-k8s-pod1-eth0",
    );
    assert.throws(() => resourceKey("nodes", "../etc"), /invalid Calico resource name/);
    assert.throws(() => resourceKey("nodes", "Node1"), /invalid/);
  });

  test("IPAM blocks, affinities, handles", () => {
    assert.equal(blockKey("10.244.137.64/26"), "/calico/ipam/v2/assignment/ipv4/block/10.244.137.64-26");
    assert.equal(
      blockCidrFromKey("/calico/ipam/v2/assignment/ipv4/block/10.244.137.64-26"),
      "10.244.137.64/26",
    );
    assert.equal(
      blockAffinityKey("node1", "10.244.137.64/26"),
      "/calico/ipam/v2/host/node1/ipv4/block/10.244.137.64-26",
    );
    assert.deepEqual(parseBlockAffinityKey("/calico/ipam/v2/host/node1/ipv4/block/10.244.137.64-26"), {
      host: "node1",
      cidr: "10.244.137.64/26",
    });
    assert.equal(parseBlockAffinityKey("/calico/ipam/v2/host/node1/ipv6/block/x"), null);
    assert.equal(handleKey("ipip-tunnel-addr-node1"), "/calico/ipam/v2/handle/ipip-tunnel-addr-node1");
    assert.throws(() => handleKey("a/b"), /invalid IPAM handle/);
    assert.throws(() => blockKey("10.244.0.0"), /invalid IPv4 CIDR/);
  });

  test("workload endpoint names double the dashes", () => {
    assert.equal(workloadEndpointName("node1", "pod1"), "node1-k8s-pod1-eth0");
    assert.equal(workloadEndpointName("worker-1", "echo-a"), "worker--1-k8s-echo--a-eth0");
  });
});
