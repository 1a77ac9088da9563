// Calico's rules as verification writes them down (calico-rules.ts), table by table, on the datastore of
// a real lab: the bgp lab's kernel showed exactly the routes the rules derive.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  cidrContains,
  encapsulationFor,
  expectHost,
  onSubnet,
  routeDestination,
  selectorMatches,
  unexplainedRoutes,
} from "../../../src/verify/calico-rules.ts";
import { factsFromKvs } from "../../../src/verify/datastore-facts.ts";
import { BGP_KVS, BGP_ROUTES, HOSTS, variantKvs } from "./fixture.ts";

describe("Calico's encapsulation table", () => {
  const table: [string, string, boolean, string][] = [
    // ipipMode, vxlanMode, other subnet, → encapsulation
    ["Never", "Never", false, "plain"],
    ["Never", "Never", true, "plain"],
    ["Always", "Never", false, "ipip"],
    ["Always", "Never", true, "ipip"],
    ["CrossSubnet", "Never", false, "plain"],
    ["CrossSubnet", "Never", true, "ipip"],
    ["Never", "Always", false, "vxlan"],
    ["Never", "CrossSubnet", false, "plain"],
    ["Never", "CrossSubnet", true, "vxlan"],
  ];
  for (const [ipipMode, vxlanMode, cross, want] of table)
    it(`ipipMode ${ipipMode}, vxlanMode ${vxlanMode}, ${cross ? "another subnet" : "same subnet"}: ${want}`, () =>
      assert.equal(encapsulationFor({ ipipMode, vxlanMode } as never, cross), want));
});

describe("addresses and selectors", () => {
  it("knows which block lies in which pool and which node is on which subnet", () => {
    assert.ok(cidrContains("10.244.0.0/16", "10.244.139.64/26"));
    assert.ok(cidrContains("10.244.0.0/16", "10.244.139.65"));
    assert.ok(!cidrContains("10.244.0.0/16", "10.245.0.0/26"));
    assert.ok(!cidrContains("10.244.139.64/26", "10.244.0.0/16"));
    assert.ok(onSubnet("192.168.19.165/24", "192.168.19.166"));
    assert.ok(!onSubnet("192.168.19.165/24", "192.168.20.166"));
    assert.ok(onSubnet("192.168.19.165/16", "192.168.20.166"));
  });
  it("reads the selectors Calico pools use", () => {
    const l = { "route-reflector": "true", worker: "no-1" };
    assert.ok(selectorMatches("all()", l));
    assert.ok(selectorMatches("", l));
    assert.ok(selectorMatches("has(route-reflector)", l));
    assert.ok(!selectorMatches("!has(route-reflector)", l));
    assert.ok(selectorMatches("worker == 'no-1' && has(route-reflector)", l));
    assert.ok(!selectorMatches('worker != "no-1"', l));
    assert.throws(
      () => selectorMatches("worker in {'a'}", l),
      /verification cannot read the term "worker in \{'a'\}"/,
    );
  });
  it("finds a route's destination", () => {
    assert.equal(routeDestination("blackhole 10.244.93.0/26 proto bird"), "10.244.93.0/26");
    assert.equal(routeDestination("10.244.93.1 dev cali8569c8a1223 scope link"), "10.244.93.1");
    assert.equal(routeDestination("default dev eth0 scope link"), "default");
  });
});

describe("a real bgp lab's datastore", () => {
  const facts = factsFromKvs(BGP_KVS);
  it("reads nodes, the pool, the blocks with their affinities and the workload endpoints", () => {
    assert.deepEqual(facts.unreadable, []);
    assert.deepEqual(
      facts.nodes.map((n) => [n.name, n.ipv4Address]),
      [
        ["master", "192.168.19.165/24"],
        ["worker-1", "192.168.19.166/24"],
        ["worker-2", "192.168.19.167/24"],
      ],
    );
    assert.deepEqual(facts.pools, [
      {
        name: "default-ipv4-ippool",
        cidr: "10.244.0.0/16",
        ipipMode: "Never",
        vxlanMode: "Never",
        natOutgoing: true,
        nodeSelector: "all()",
        disabled: false,
      },
    ]);
    assert.deepEqual(facts.blocks, [
      { cidr: "10.244.139.64/26", node: "worker-1" },
      { cidr: "10.244.93.0/26", node: "worker-2" },
    ]);
    assert.equal(facts.endpoints.length, 4);
  });

  for (const h of HOSTS)
    it(`derives exactly the pool routes the kernel of ${h} showed`, () => {
      const want = expectHost(facts, h, "eth0");
      const inPool = BGP_ROUTES[h]!.filter((l) => /^(blackhole )?10\.244\./.test(l)).sort();
      assert.deepEqual(want.routes.map((r) => r.line).sort(), inPool);
      assert.deepEqual(unexplainedRoutes(facts, want.routes, BGP_ROUTES[h]!), []);
      assert.equal(want.bird, true);
      assert.equal(want.tunl0, undefined);
      assert.equal(want.vxlan, undefined);
    });

  it("says why each route is expected", () => {
    const w1 = expectHost(facts, "worker-1", "eth0").routes;
    assert.deepEqual(
      w1.map((r) => `${r.line}  <- ${r.why}`),
      [
        "10.244.139.64 dev calie5a969d7e36 scope link  <- local workload endpoint: a /32 to its host-side interface: workload endpoint on calie5a969d7e36",
        "10.244.139.65 dev cali7f54356e7cc scope link  <- local workload endpoint: a /32 to its host-side interface: workload endpoint on cali7f54356e7cc",
        "10.244.93.0/26 via 192.168.19.167 dev eth0 proto bird  <- remote block without encapsulation: BIRD routes it to the owner on the underlay: 10.244.93.0/26 is affine to worker-2 (192.168.19.167), pool default-ipv4-ippool ipipMode Never vxlanMode Never",
        "blackhole 10.244.139.64/26 proto bird  <- own block: BIRD's static blackhole, advertised to peers: 10.244.139.64/26 is affine to worker-1",
      ],
    );
  });
});

describe("the other modes, on the same datastore", () => {
  it("IPIP Always: remote blocks through tunl0 onlink, tunl0 with the node's tunnel address", () => {
    const facts = factsFromKvs(variantKvs({ ipipMode: "Always", ipipTunnels: true }));
    const m = expectHost(facts, "master", "eth0");
    assert.deepEqual(
      m.routes.map((r) => r.line),
      [
        "10.244.139.64/26 via 192.168.19.166 dev tunl0 proto bird onlink",
        "10.244.93.0/26 via 192.168.19.167 dev tunl0 proto bird onlink",
      ],
    );
    assert.deepEqual(m.tunl0, { address: "10.244.0.1", mtu: 1440 });
    assert.equal(m.bird, true);
  });
  it("IPIP CrossSubnet: tunl0 only to the node in another subnet", () => {
    const facts = factsFromKvs(
      variantKvs({
        ipipMode: "CrossSubnet",
        ipipTunnels: true,
        addresses: { "worker-2": "192.168.20.167/24" },
      }),
    );
    assert.deepEqual(
      expectHost(facts, "master", "eth0").routes.map((r) => r.line),
      [
        "10.244.139.64/26 via 192.168.19.166 dev eth0 proto bird",
        "10.244.93.0/26 via 192.168.20.167 dev tunl0 proto bird onlink",
      ],
    );
  });
  it("VXLAN Always: felix's routes to the VTEPs, felix's blackholes, no BIRD, vxlan.calico 4096/4789", () => {
    const facts = factsFromKvs(variantKvs({ vxlanMode: "Always", vxlanTunnels: true }));
    const w2 = expectHost(facts, "worker-2", "eth0");
    assert.deepEqual(
      w2.routes.filter((r) => r.kind !== "workload").map((r) => r.line),
      [
        "10.244.139.64/26 via 10.244.139.66 dev vxlan.calico proto 80 onlink",
        "blackhole 10.244.93.0/26 proto 80",
      ],
    );
    assert.deepEqual(w2.vxlan, { address: "10.244.93.2", mtu: 1410, vni: 4096, port: 4789 });
    assert.equal(w2.bird, false);
  });
  it("a node the datastore does not know is an error that names it", () => {
    assert.throws(
      () => expectHost(factsFromKvs(BGP_KVS), "worker-9", "eth0"),
      /node worker-9 is not in the datastore/,
    );
  });
});
