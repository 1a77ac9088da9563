// The daemon's pure parts: its command line, the datastore snapshot, calicoctl-apply parsing,
// Felix's own routes and the natOutgoing iptables-restore input.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { daemonArgv, parseDaemonArgs, parseLabel } from "../../../../src/agent/daemon/args.ts";
import { statusOf, type AgentStatus } from "../../../../src/agent/daemon/status.ts";
import { snapshotFromKvs } from "../../../../src/agent/datastore/snapshot-cache.ts";
import { keyFor, parseResources } from "../../../../src/agent/datastore/apply.ts";
import { felixProgram, natRestoreInput, routeArgs } from "../../../../src/agent/felix/routes.ts";
import { planDataplane } from "../../../../src/agent/felix/plan.ts";
import { modeName } from "../../../../src/agent/felix/probe.ts";
import { node, pool, seedBlocks, seedNodes } from "../fixtures.ts";

describe("daemon arguments", () => {
  it("parses the lab's command line and reproduces it", () => {
    const argv = [
      "--manifest", "/lab/calico.yaml", "--nodename", "worker-1", "--run-dir", "/lab/run/worker-1",
      "--label", "route-reflector=true", "--label", "zone=a", "--rr-cluster-id", "244.0.0.1",
      "--etcd-endpoints", "http://192.168.19.165:2379",
    ]; // prettier-ignore
    const a = parseDaemonArgs(argv);
    assert.deepEqual(a, {
      manifest: "/lab/calico.yaml",
      nodeName: "worker-1",
      runDir: "/lab/run/worker-1",
      labels: { "route-reflector": "true", zone: "a" },
      rrClusterId: "244.0.0.1",
      etcdEndpoints: ["http://192.168.19.165:2379"],
      resyncMs: 30_000,
    });
    assert.deepEqual(parseDaemonArgs(daemonArgv(a)), a);
    assert.deepEqual(parseDaemonArgs(["--manifest=m", "--nodename=n", "--run-dir=d"]).labels, {});
    // A VM host's agent: BIRD's socket on a tmpfs, the run dir on the share.
    const vm = { ...a, socketDir: "/run/calico-lab/lab-worker-1" };
    assert.deepEqual(parseDaemonArgs(daemonArgv(vm)), vm);
    assert.equal(parseDaemonArgs(["--manifest=m", "--nodename=n", "--run-dir=d"]).socketDir, undefined);
  });

  it("refuses what it does not understand, saying what is wrong", () => {
    assert.throws(() => parseDaemonArgs(["--manifest", "m", "--nodename", "n"]), /--run-dir is required/);
    assert.throws(
      () => parseDaemonArgs(["--manifest", "m", "--nodename", "N!", "--run-dir", "d"]),
      /node name/,
    );
    assert.throws(
      () => parseDaemonArgs(["--manifest", "m", "--nodename", "n", "--run-dir", "d", "--x", "1"]),
      /unknown option --x/,
    );
    assert.throws(
      () =>
        parseDaemonArgs(["--manifest", "m", "--nodename", "n", "--run-dir", "d", "--rr-cluster-id", "rr1"]),
      /IPv4/,
    );
    assert.throws(
      () =>
        parseDaemonArgs([
          "--manifest",
          "m",
          "--nodename",
          "n",
          "--run-dir",
          "d",
          "--etcd-endpoints",
          "etcd:2379",
        ]),
      /endpoint/,
    );
    assert.throws(() => parseLabel("a b=c"), /label key/);
    assert.deepEqual(parseLabel("has-only="), ["has-only", ""]);
    assert.deepEqual(parseLabel("k=v"), ["k", "v"]);
  });
});

describe("datastore snapshot", () => {
  it("sorts each kind, keeps only bgpconfigurations/default and drops deleted blocks", () => {
    const R = "/calico/resources/v3/projectcalico.org";
    const kv = (key: string, v: unknown) => ({ key, value: JSON.stringify(v) });
    const snap = snapshotFromKvs([
      kv(`${R}/nodes/worker-1`, seedNodes[1]),
      kv(`${R}/nodes/master`, seedNodes[0]),
      kv(`${R}/ippools/default-ipv4-ippool`, pool("Never")),
      kv(`${R}/bgpconfigurations/node.master`, { spec: { asNumber: 1 } }),
      kv(`${R}/bgpconfigurations/default`, { spec: { nodeToNodeMeshEnabled: false } }),
      kv(`${R}/bgppeers/p`, { metadata: { name: "p" }, spec: {} }),
      kv(`${R}/workloadendpoints/default/x`, {}),
      kv("/calico/ipam/v2/assignment/ipv4/block/10.244.1.0-26", { cidr: "10.244.1.0/26", affinity: "host:worker-1", deleted: false }),
      kv("/calico/ipam/v2/assignment/ipv4/block/10.244.0.0-26", { cidr: "10.244.0.0/26", affinity: "host:master", deleted: false }),
      kv("/calico/ipam/v2/assignment/ipv4/block/10.244.9.0-26", { cidr: "10.244.9.0/26", affinity: null, deleted: true }),
    ]); // prettier-ignore
    assert.deepEqual(
      snap.nodes.map((n) => n.metadata.name),
      ["master", "worker-1"],
    );
    assert.equal(snap.pools.length, 1);
    assert.deepEqual(snap.bgpConfiguration?.spec, { nodeToNodeMeshEnabled: false });
    assert.equal(snap.bgpPeers.length, 1);
    assert.deepEqual(snap.blocks, [
      { cidr: "10.244.0.0/26", affinity: "host:master" },
      { cidr: "10.244.1.0/26", affinity: "host:worker-1" },
    ]);
  });
});

describe("calicoctl apply input", () => {
  it("reads several YAML documents and kind: List", () => {
    const rs = parseResources(`
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: { name: default }
spec: { nodeToNodeMeshEnabled: false }
---
kind: List
items:
  - { kind: BGPPeer, metadata: { name: a }, spec: { peerIP: 10.0.0.1, asNumber: 65001 } }
  - { kind: IPPool, metadata: { name: p }, spec: { cidr: 10.244.0.0/16 } }
`);
    assert.deepEqual(
      rs.map((r) => keyFor(r)),
      [
        "/calico/resources/v3/projectcalico.org/bgpconfigurations/default",
        "/calico/resources/v3/projectcalico.org/bgppeers/a",
        "/calico/resources/v3/projectcalico.org/ippools/p",
      ],
    );
  });

  it("refuses unknown kinds, other API versions and nameless resources", () => {
    assert.throws(() => parseResources("kind: Pod\nmetadata: {name: x}"), /unsupported kind "Pod"/);
    assert.throws(() => parseResources("kind: IPPool\napiVersion: v1\nmetadata: {name: x}"), /apiVersion/);
    assert.throws(() => parseResources("kind: IPPool\nmetadata: {}"), /metadata.name/);
    assert.throws(
      () => parseResources("kind: IPPool\nmetadata: {name: Bad_Name}").map(keyFor),
      /invalid Calico resource name/,
    );
  });
});

describe("Felix's own routes", () => {
  const snap = (ipip: "Never", vxlan: "Always" | "CrossSubnet" | "Never") => ({
    nodes: seedNodes,
    pools: [pool(ipip, vxlan)],
    blocks: seedBlocks,
  });

  it("VXLAN Always: remote blocks via the peers' tunnel IPs (onlink, proto 80), neighbours, FDB, own blackhole", () => {
    const s = snap("Never", "Always");
    const prog = felixProgram(s, planDataplane(s, "master"), "eth0");
    assert.deepEqual(
      prog.routes.map((r) => routeArgs(r).join(" ")),
      [
        "10.244.1.0/26 via 10.244.1.1 dev vxlan.calico onlink proto 80",
        "blackhole 10.244.137.64/26 proto 80",
        "10.244.2.64/26 via 10.244.2.65 dev vxlan.calico onlink proto 80",
      ],
    );
    assert.deepEqual(
      prog.neigh.map((n) => n.ip),
      ["10.244.1.1", "10.244.2.65"],
    );
    assert.deepEqual(
      prog.fdb.map((f) => f.dst),
      ["192.168.19.166", "192.168.19.167"],
    );
  });

  it("VXLAN CrossSubnet without BIRD: same-subnet peers routed directly over the underlay", () => {
    const nodes = [...seedNodes.slice(0, 2), node("far", "192.168.20.10/24", { vxlan: "10.244.3.1" })];
    const s = {
      nodes,
      pools: [pool("Never", "CrossSubnet")],
      blocks: [...seedBlocks.slice(0, 2), { cidr: "10.244.3.0/26", affinity: "host:far" }],
    };
    const prog = felixProgram(s, planDataplane(s, "master"), "eth0");
    assert.deepEqual(
      prog.routes.map((r) => routeArgs(r).join(" ")),
      [
        "10.244.1.0/26 via 192.168.19.166 dev eth0 proto 80",
        "blackhole 10.244.137.64/26 proto 80",
        "10.244.3.0/26 via 10.244.3.1 dev vxlan.calico onlink proto 80",
      ],
    );
  });

  it("IPIP (Always and CrossSubnet): tunl0 planned with the tunnel /32 and MTU; BIRD does the routes, Felix none", () => {
    for (const mode of ["Always", "CrossSubnet"] as const) {
      const s = { nodes: seedNodes, pools: [pool(mode)], blocks: seedBlocks };
      const plan = planDataplane(s, "worker-1", { ipip: 1480 });
      assert.deepEqual(plan.ipip, { address: "10.244.1.0", mtu: 1480 });
      assert.equal(plan.bird, true);
      assert.equal(plan.vxlan, undefined);
      assert.deepEqual(felixProgram(s, plan, "eth0"), { routes: [], neigh: [], fdb: [] });
    }
    // IPIP off: no tunl0 in the plan, so the dataplane removes it.
    assert.equal(
      planDataplane({ nodes: seedNodes, pools: [pool("Never")], blocks: seedBlocks }, "worker-1").ipip,
      undefined,
    );
  });

  it("BGP: BIRD does the routes; Felix programs none", () => {
    const s = snap("Never", "Never");
    assert.deepEqual(felixProgram(s, planDataplane(s, "master"), "eth0"), { routes: [], neigh: [], fdb: [] });
  });

  it("natOutgoing as an iptables-restore --noflush input: chains declared (so flushed) and refilled", () => {
    assert.equal(
      natRestoreInput({ natOutgoingPools: ["10.244.0.0/16"], allPools: ["10.244.0.0/16"] }),
      [
        "*nat",
        ":cali-POSTROUTING - [0:0]",
        ":cali-nat-outgoing - [0:0]",
        "-A cali-POSTROUTING -j cali-nat-outgoing",
        "-A cali-nat-outgoing -s 10.244.0.0/16 -d 10.244.0.0/16 -j RETURN",
        "-A cali-nat-outgoing -s 10.244.0.0/16 -j MASQUERADE",
        "COMMIT",
        "",
      ].join("\n"),
    );
  });

  it("mode names for the preflight's messages", () => {
    assert.equal(modeName({ ipipMode: "Always", vxlanMode: "Never" }), "ipip");
    assert.equal(modeName({ ipipMode: "CrossSubnet", vxlanMode: "Never" }), "crosssubnet");
    assert.equal(modeName({ ipipMode: "Never", vxlanMode: "Always" }), "vxlan");
    assert.equal(modeName({ ipipMode: "Never", vxlanMode: "Never" }), "bgp");
  });

  it("knows its agent's status by pid, or by launch token when the pid is not its own (a VM host's)", () => {
    const st: AgentStatus = { phase: "ready", node: "n", pid: 231, launch: "9f3c", updatedAt: "" };
    assert.equal(statusOf(st, 231), true);
    assert.equal(statusOf(st, 4711, "9f3c"), true, "vm-exec's pid here, the agent's in the VM");
    assert.equal(statusOf(st, 4711, "0000"), false, "another launch's status");
    assert.equal(statusOf(st, 4711), false);
    assert.equal(statusOf(null, 231, "9f3c"), false);
  });
});
