// A wrong planner output fails verification. The kernel route tables here are produced as the agent's
// planner would have them programmed (src/agent/felix/plan.ts: this test may import it, src/verify may
// not), from a real lab's datastore. Unperturbed, verification's independent rules agree with it in every
// mode; perturbed (a route missing, a wrong device, a wrong next hop, a stale tunl0 route left behind, a
// planner that ignores CrossSubnet), the route check fails and says what it expected and what it saw.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  expectedBlackholes,
  expectedRemoteRoutes,
  planDataplane,
  type Snapshot,
} from "../../../src/agent/felix/plan.ts";
import type { AllocationBlock, CalicoNode, IPPool } from "../../../src/agent/datastore/keys.ts";
import { expectHost } from "../../../src/verify/calico-rules.ts";
import { factsFromKvs, type KeyValue } from "../../../src/verify/datastore-facts.ts";
import { deviceChecks, judgeRoutes, routeChecks, type SeenLink } from "../../../src/verify/host-checks.ts";
import { assertGolden } from "../../support/golden.ts";
import { BGP_KVS, HOSTS, variantKvs, type Variant } from "./fixture.ts";

/** The agent's view of the same keys (its own types). */
function agentSnapshot(kvs: readonly KeyValue[]): Snapshot {
  const of = <T>(part: string) =>
    kvs.filter((kv) => kv.key.includes(part)).map((kv) => JSON.parse(kv.value) as T);
  return {
    nodes: of<CalicoNode>("/nodes/"),
    pools: of<IPPool>("/ippools/"),
    blocks: of<AllocationBlock>("/assignment/ipv4/block/").map((b) => ({
      cidr: b.cidr,
      affinity: b.affinity,
    })),
  };
}

/** `ip route show` as the agent's planner (BIRD, felix) and CNI plugin would have it programmed. */
function plannedKernel(kvs: readonly KeyValue[], node: string): string[] {
  const snap = agentSnapshot(kvs);
  const workloads = kvs
    .filter((kv) => kv.key.includes("/workloadendpoints/"))
    .map(
      (kv) => JSON.parse(kv.value) as { spec: { node: string; interfaceName: string; ipNetworks: string[] } },
    )
    .filter((w) => w.spec.node === node)
    .map((w) => `${w.spec.ipNetworks[0]!.split("/")[0]} dev ${w.spec.interfaceName} scope link`);
  const me = snap.nodes.find((n) => n.metadata.name === node)!.spec.bgp!.ipv4Address!;
  return [
    "default dev eth0 scope link",
    ...expectedRemoteRoutes(snap, node, "eth0").map((r) => r.line),
    ...expectedBlackholes(snap, node),
    ...workloads,
    `${me.replace(/\.\d+\//, ".0/")} dev eth0 proto kernel scope link src ${me.split("/")[0]}`,
  ];
}

function verdictText(
  kvs: readonly KeyValue[],
  node: string,
  kernel: readonly string[],
): { ok: boolean; text: string } {
  const facts = factsFromKvs(kvs);
  const [c] = routeChecks(
    node,
    judgeRoutes(facts, expectHost(facts, node, "eth0"), kernel, undefined),
    undefined,
  );
  return {
    ok: c!.ok,
    text: `[${c!.category}] ${c!.name}: ${c!.ok ? "ok" : "FAIL"}\n  expected: ${c!.expected}\n  seen:     ${c!.seen}\n`,
  };
}

const MODES: Record<string, Variant> = {
  bgp: {},
  ipip: { ipipMode: "Always", ipipTunnels: true },
  crosssubnet: { ipipMode: "CrossSubnet", ipipTunnels: true, addresses: { "worker-2": "192.168.20.167/24" } },
  vxlan: { vxlanMode: "Always", vxlanTunnels: true },
};

describe("the agent's planner and verification's rules agree on a correct lab", () => {
  for (const [mode, v] of Object.entries(MODES))
    for (const h of HOSTS)
      it(`${mode}: ${h}`, () => {
        const kvs = variantKvs(v);
        const r = verdictText(kvs, h, plannedKernel(kvs, h));
        assert.ok(r.ok, r.text);
        // And on the devices: tunl0 and vxlan.calico as the planner configures them.
        const plan = planDataplane(agentSnapshot(kvs), h);
        const want = expectHost(factsFromKvs(kvs), h, "eth0");
        assert.deepEqual(want.tunl0, plan.ipip);
        assert.deepEqual(
          want.vxlan,
          plan.vxlan && {
            address: plan.vxlan.address,
            mtu: plan.vxlan.mtu,
            vni: plan.vxlan.vni,
            port: plan.vxlan.port,
          },
        );
        assert.equal(want.bird, plan.bird);
      });
});

describe("a wrong planner output fails verification", () => {
  const kvs = BGP_KVS;
  const good = plannedKernel(kvs, "master");
  const remote = "10.244.93.0/26 via 192.168.19.167 dev eth0 proto bird";
  assert.ok(good.includes(remote), "the planner routes worker-2's block on the underlay");
  const cases: [string, readonly KeyValue[], string, string[]][] = [
    ["a route missing", kvs, "master", good.filter((l) => l !== remote)],
    [
      "a wrong device",
      kvs,
      "master",
      good.map((l) => (l === remote ? "10.244.93.0/26 via 192.168.19.167 dev tunl0 proto bird onlink" : l)),
    ],
    [
      "a wrong next hop",
      kvs,
      "master",
      good.map((l) => (l === remote ? "10.244.93.0/26 via 192.168.19.166 dev eth0 proto bird" : l)),
    ],
    [
      "a stale tunl0 route left behind",
      kvs,
      "master",
      [...good, "10.244.93.0/26 via 192.168.19.167 dev tunl0 proto bird onlink"],
    ],
    [
      "a workload route to a gone pod",
      kvs,
      "worker-1",
      [...plannedKernel(kvs, "worker-1"), "10.244.139.70 dev cali0000000dead scope link"],
    ],
  ];
  const texts: string[] = [];
  for (const [what, k, node, kernel] of cases)
    it(`${what}: the route check fails`, () => {
      const r = verdictText(k, node, kernel);
      assert.equal(r.ok, false, r.text);
      texts.push(`# ${what}\n${r.text}`);
    });

  it("a planner that treats CrossSubnet as Always fails on the hosts of one subnet", () => {
    const cs = variantKvs(MODES.crosssubnet!);
    const always = variantKvs({ ...MODES.crosssubnet!, ipipMode: "Always" });
    // The buggy planner: given the CrossSubnet datastore, it programs what Always would.
    const r = verdictText(cs, "master", plannedKernel(always, "master"));
    assert.equal(r.ok, false);
    assert.match(r.text, /missing: 10\.244\.139\.64\/26 via 192\.168\.19\.166 dev eth0 proto bird/);
    assert.match(
      r.text,
      /unexpected \(no datastore fact explains them\): 10\.244\.139\.64\/26 via 192\.168\.19\.166 dev tunl0/,
    );
    texts.push(`# a planner that treats CrossSubnet as Always\n${r.text}`);
  });

  it("without the ipip module, tunl0 routes are skipped (not missing) and not taken for stale ones", () => {
    const cs = variantKvs(MODES.crosssubnet!);
    const facts = factsFromKvs(cs);
    const kernel = plannedKernel(cs, "master").filter((l) => !l.includes(" dev tunl0 "));
    const why = "the agent on master runs without IP-in-IP";
    const v = judgeRoutes(facts, expectHost(facts, "master", "eth0"), kernel, why);
    assert.deepEqual(v.missing, []);
    assert.deepEqual(v.unreachable, ["10.244.93.0/26 via 192.168.20.167 dev tunl0 proto bird onlink"]);
    // Whatever this kernel shows for that block instead is not "unexplained".
    const other = judgeRoutes(
      facts,
      expectHost(facts, "master", "eth0"),
      [...kernel, "10.244.93.0/26 via 192.168.19.1 dev eth0 proto bird"],
      why,
    );
    assert.deepEqual(other.unexpected, []);
    const checks = routeChecks("master", v, why);
    assert.deepEqual(
      checks.map((c) => [c.ok, c.skipped]),
      [
        [true, undefined],
        [true, why],
      ],
    );
  });

  it("tunl0 with the wrong MTU or address fails the device check", () => {
    const ipip = factsFromKvs(variantKvs(MODES.ipip!));
    const want = expectHost(ipip, "worker-1", "eth0");
    const tunl = (mtu: number, local: string): SeenLink[] => [
      { ifname: "tunl0", operstate: "UNKNOWN", mtu, addr_info: [{ family: "inet", local }] },
    ];
    assert.equal(deviceChecks("worker-1", want, tunl(1440, "10.244.139.66"), undefined)[0]!.ok, true);
    for (const links of [tunl(1480, "10.244.139.66"), tunl(1440, "10.244.139.65"), []]) {
      const [c] = deviceChecks("worker-1", want, links, undefined);
      assert.equal(c!.ok, false);
      texts.push(
        `# tunl0: ${c!.seen}\n[${c!.category}] ${c!.name}: FAIL\n  expected: ${c!.expected}\n  seen:     ${c!.seen}\n`,
      );
    }
  });

  it("the failure texts (golden)", async () => {
    assert.equal(texts.length, cases.length + 4);
    await assertGolden("verify/perturbed-checks.txt", texts.join("\n"));
  });
});
