import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  expectedBlackholes,
  expectedRemoteRoutes,
  natOutgoingRules,
  planDataplane,
  vxlanMac,
} from "../../../../src/agent/felix/plan.ts";
import { featuresFor, missingFeatureMessage } from "../../../../src/agent/felix/preflight.ts";
import { node, pool, seedBlocks, seedNodes } from "../fixtures.ts";

const snap = (ipip: "Always" | "Never" | "CrossSubnet", vxlan: "Always" | "Never" = "Never") => ({
  nodes: seedNodes,
  pools: [pool(ipip, vxlan)],
  blocks: seedBlocks,
});

describe("dataplane plan per mode", () => {
  it("BGP: remote blocks via the node's underlay address, no tunl0, BIRD runs", () => {
    const plan = planDataplane(snap("Never"), "master");
    assert.equal(plan.ipip, undefined);
    assert.equal(plan.vxlan, undefined);
    assert.equal(plan.bird, true);
    assert.deepEqual(
      expectedRemoteRoutes(snap("Never"), "master", "eth0").map((r) => r.line),
      [
        "10.244.1.0/26 via 192.168.19.166 dev eth0 proto bird",
        "10.244.2.64/26 via 192.168.19.167 dev eth0 proto bird",
      ],
    );
    assert.deepEqual(expectedBlackholes(snap("Never"), "master"), ["blackhole 10.244.137.64/26 proto bird"]);
  });

  it("IPIP: tunl0 with the /32 tunnel address and MTU 1440; routes onlink via tunl0", () => {
    const plan = planDataplane(snap("Always"), "master");
    assert.deepEqual(plan.ipip, { address: "10.244.137.64", mtu: 1440 });
    assert.deepEqual(
      expectedRemoteRoutes(snap("Always"), "master", "eth0").map((r) => r.line),
      [
        "10.244.1.0/26 via 192.168.19.166 dev tunl0 proto bird onlink",
        "10.244.2.64/26 via 192.168.19.167 dev tunl0 proto bird onlink",
      ],
    );
  });

  it("CrossSubnet: plain routes inside the subnet, tunl0 across it", () => {
    const nodes = [...seedNodes.slice(0, 2), node("far", "10.77.1.5/24", { ipip: "10.244.9.0" })];
    const s = {
      nodes,
      pools: [pool("CrossSubnet")],
      blocks: [...seedBlocks.slice(0, 2), { cidr: "10.244.9.0/26", affinity: "host:far" }],
    };
    assert.deepEqual(
      expectedRemoteRoutes(s, "master", "eth0").map((r) => r.line),
      [
        "10.244.1.0/26 via 192.168.19.166 dev eth0 proto bird",
        "10.244.9.0/26 via 10.77.1.5 dev tunl0 proto bird onlink",
      ],
    );
  });

  it("VXLAN: vxlan.calico (VNI 4096, port 4789, MTU 1410) with a peer per node, and no BIRD", () => {
    const plan = planDataplane(snap("Never", "Always"), "master");
    assert.equal(plan.bird, false);
    assert.equal(plan.vxlan?.vni, 4096);
    assert.equal(plan.vxlan?.port, 4789);
    assert.equal(plan.vxlan?.mtu, 1410);
    assert.deepEqual(
      plan.vxlan?.peers.map((p) => [p.node, p.nodeIP, p.tunnelIP, p.blocks]),
      [
        ["worker-1", "192.168.19.166", "10.244.1.1", ["10.244.1.0/26"]],
        ["worker-2", "192.168.19.167", "10.244.2.65", ["10.244.2.64/26"]],
      ],
    );
    assert.deepEqual(
      expectedRemoteRoutes(snap("Never", "Always"), "master", "eth0").map((r) => r.line),
      [
        "10.244.1.0/26 via 10.244.1.1 dev vxlan.calico proto 80 onlink",
        "10.244.2.64/26 via 10.244.2.65 dev vxlan.calico proto 80 onlink",
      ],
    );
    assert.deepEqual(expectedBlackholes(snap("Never", "Always"), "master"), [
      "blackhole 10.244.137.64/26 proto 80",
    ]);
  });

  it("VXLAN MACs are stable per node and locally administered", () => {
    assert.equal(vxlanMac("worker-1"), vxlanMac("worker-1"));
    assert.notEqual(vxlanMac("worker-1"), vxlanMac("worker-2"));
    assert.match(vxlanMac("master"), /^66(:[0-9a-f]{2}){5}$/);
  });

  it("natOutgoing masquerades pool traffic leaving the pools, in Calico's chain names", () => {
    assert.deepEqual(natOutgoingRules({ natOutgoingPools: ["10.244.0.0/16"], allPools: ["10.244.0.0/16"] }), [
      "-A cali-POSTROUTING -j cali-nat-outgoing",
      "-A cali-nat-outgoing -s 10.244.0.0/16 -d 10.244.0.0/16 -j RETURN",
      "-A cali-nat-outgoing -s 10.244.0.0/16 -j MASQUERADE",
    ]);
  });

  it("preflight: which kernel features each mode needs, and what a refusal says", () => {
    assert.deepEqual(featuresFor("ipip"), ["veth", "bridge", "ipip"]);
    assert.deepEqual(featuresFor("bgp"), ["veth", "bridge"]);
    assert.deepEqual(featuresFor("vxlan"), ["veth", "bridge", "vxlan"]);
    assert.equal(
      missingFeatureMessage("ipip", "ipip", "Error: Unknown device type.\n"),
      "mode ipip needs the kernel's ipip module, and this kernel cannot create a device of type ipip " +
        "(Error: Unknown device type.). Nothing was created. Fix: use mode bgp or vxlan on this machine, " +
        "or run the ipip stack in a VM with a distribution kernel (scripts/vm-run).",
    );
  });
});
