import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  parseAutodetectionMethod,
  parseIpAddrJson,
  selectAddress,
  type InterfaceAddrs,
} from "../../../../src/agent/startup/autodetect.ts";
import { parseLabels, settingsFromEnv } from "../../../../src/agent/startup/env.ts";
import { selectorMatches, defaultPool } from "../../../../src/agent/startup/pool.ts";

const i = (ifname: string, ...addrs: string[]): InterfaceAddrs => ({
  ifname,
  addrs: addrs.map((a) => ({ address: a.split("/")[0]!, prefixLength: Number(a.split("/")[1]) })),
});

// A host as the kernel lists it: lo, docker0, the underlay, a second NIC, tunnel and pod interfaces.
const HOST = [
  i("lo", "127.0.0.1/8"),
  i("docker0", "172.17.0.1/16"),
  i("eth0", "169.254.3.3/16", "192.168.19.165/24"),
  i("eth1", "10.10.0.5/24"),
  i("tunl0", "10.244.137.64/32"),
  i("calie0906292e2"),
  i("vxlan.calico", "10.244.137.65/32"),
];

describe("IP autodetection", () => {
  const cases: [string, InterfaceAddrs[], string | null, string | null][] = [
    ["first-found", HOST, null, "eth0 192.168.19.165/24"],
    ["", HOST, null, "eth0 192.168.19.165/24"],
    [
      "first-found",
      [
        i("cali1", "10.0.0.1/32"),
        i("veth9", "10.0.0.2/24"),
        i("dummy0", "10.0.0.3/24"),
        i("ens3", "10.1.0.1/16"),
      ],
      null,
      "ens3 10.1.0.1/16",
    ],
    ["first-found", [i("lo", "127.0.0.1/8"), i("eth0", "169.254.0.1/16")], null, null],
    [
      "first-found",
      [
        i("kube-ipvs0", "10.96.0.1/32"),
        i("flannel.1", "10.1.0.0/32"),
        i("cni0", "10.2.0.1/24"),
        i("br-x", "10.3.0.1/24"),
      ],
      null,
      "br-x 10.3.0.1/24",
    ],
    ["interface=eth1", HOST, null, "eth1 10.10.0.5/24"],
    ["interface=eth9,eth.*", HOST, null, "eth0 192.168.19.165/24"],
    ["interface=docker.*", HOST, null, "docker0 172.17.0.1/16"],
    ["interface=wlan.*", HOST, null, null],
    ["skip-interface=eth0", HOST, null, "docker0 172.17.0.1/16"],
    ["skip-interface=lo,docker.*,eth0", HOST, null, "eth1 10.10.0.5/24"],
    ["cidr=10.10.0.0/16", HOST, null, "eth1 10.10.0.5/24"],
    ["cidr=10.244.0.0/16", HOST, null, null],
    ["cidr=172.16.0.0/12,192.168.0.0/16", HOST, null, "eth0 192.168.19.165/24"],
    ["can-reach=10.10.0.1", HOST, "10.10.0.5", "eth1 10.10.0.5/24"],
    ["can-reach=192.168.19.166", HOST, "192.168.19.165", "eth0 192.168.19.165/24"],
    ["can-reach=8.8.8.8", HOST, null, null],
  ];
  for (const [method, ifaces, src, want] of cases) {
    test(`${method || "(default)"} → ${want ?? "nothing"}`, () => {
      const got = selectAddress(parseAutodetectionMethod(method), ifaces, src);
      assert.equal(got ? `${got.ifname} ${got.cidr}` : null, want);
    });
  }
  test("bad methods", () => {
    assert.throws(() => parseAutodetectionMethod("can-reach=example.com"), /IPv4/);
    assert.throws(() => parseAutodetectionMethod("interface="), /at least one/);
    assert.throws(() => parseAutodetectionMethod("interface=(("), /Invalid regular expression/);
    assert.throws(() => parseAutodetectionMethod("bogus-method"), /unknown/);
    assert.throws(
      () => selectAddress(parseAutodetectionMethod("kubernetes-internal-ip"), HOST),
      /Kubernetes API/,
    );
    assert.throws(() => parseAutodetectionMethod("cidr=10.0.0.0"), /./);
  });
  test("ip -j addr output, sorted by ifindex, IPv4 only", () => {
    const json = JSON.stringify([
      { ifindex: 3, ifname: "eth1", addr_info: [{ family: "inet", local: "10.0.0.2", prefixlen: 24 }] },
      { ifindex: 1, ifname: "lo", addr_info: [{ family: "inet6", local: "::1", prefixlen: 128 }] },
    ]);
    assert.deepEqual(parseIpAddrJson(json), [
      { ifname: "lo", addrs: [] },
      { ifname: "eth1", addrs: [{ address: "10.0.0.2", prefixLength: 24 }] },
    ]);
  });
});

describe("calico-node settings and pools", () => {
  test("environment → settings", () => {
    const s = settingsFromEnv(
      {
        NODENAME: "worker-1",
        ETCD_ENDPOINTS: "http://192.168.19.165:2379",
        IP_AUTODETECTION_METHOD: "can-reach=192.168.19.165",
        CALICO_IPV4POOL_CIDR: "10.244.0.0/16",
        CALICO_IPV4POOL_IPIP: "always",
        AS: "64512",
        NODE_LABELS: "worker=no-1",
      },
      "lab-worker-1",
    );
    assert.deepEqual(s.autodetection, { kind: "can-reach", destination: "192.168.19.165" });
    assert.equal(s.pool.ipipMode, "Always");
    assert.equal(s.asNumber, 64512);
    assert.deepEqual(s.labels, { worker: "no-1" });
    assert.throws(() => settingsFromEnv({ NODENAME: "n", ETCD_ENDPOINTS: "http://x:1", AS: "0" }, "n"), /AS/);
    assert.throws(() => parseLabels("a=b;c"), /invalid label/);
  });
  test("default pool", () => {
    const p = defaultPool({ cidr: "10.244.0.0/16" });
    assert.deepEqual(p.spec, {
      cidr: "10.244.0.0/16",
      ipipMode: "Always",
      vxlanMode: "Never",
      natOutgoing: true,
      blockSize: 26,
      nodeSelector: "all()",
      allowedUses: ["Workload", "Tunnel"],
    });
    assert.throws(() => defaultPool({ cidr: "10.244.0.0/16", vxlanMode: "Always" }), /both/);
    assert.throws(() => defaultPool({ cidr: "10.244.0.0/16", blockSize: 8 }), /does not fit/);
  });
  test("node selectors", () => {
    assert.equal(selectorMatches("all()", {}), true);
    assert.equal(selectorMatches("worker == 'no-1'", { worker: "no-1" }), true);
    assert.equal(selectorMatches("worker == 'no-1' && !has(edge)", { worker: "no-1", edge: "" }), false);
    assert.equal(selectorMatches('zone != "a"', { zone: "b" }), true);
    assert.equal(selectorMatches("worker in {'a'}", { worker: "a" }), true);
    assert.throws(() => selectorMatches("worker ==", {}), /invalid selector/);
  });
});
