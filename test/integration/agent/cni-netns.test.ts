// Real namespaces: two hosts on an underlay bridge, etcd on the first host's lab address, calico-node
// startup on both, then pods added with the CNI plugin exactly as a kubelet would.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNetns } from "../../../src/effects/netns.ts";
import { createBridge, createVethPair, addAddress } from "../../../src/effects/links.ts";
import { run, tryRun, inNetns } from "../../../src/effects/exec.ts";
import { startEtcd, type EtcdServer } from "../../../src/agent/datastore/etcd-server.ts";
import { runCalicoNodeIn } from "../../../src/agent/startup/invoke.ts";
import { cniNetworkConfig, invokeCni, type PodRef } from "../../../src/agent/cni/invoke.ts";
import { vethName } from "../../../src/agent/cni/naming.ts";
import type { StartupResult } from "../../../src/agent/startup/node.ts";
import { isRoot, removeNetnsWithPrefix, runPrefix } from "../../support/netns-scope.ts";

const p = runPrefix("ag");
const sw = `${p}-sw`;
const hosts = [
  { name: "node1", netns: `${p}-h1`, addr: "10.99.0.11" },
  { name: "node2", netns: `${p}-h2`, addr: "10.99.0.12" },
];
const endpoint = `http://${hosts[0]!.addr}:2379`;

interface AddrJson {
  ifname: string;
  addr_info: { family: string; local: string; prefixlen: number; scope: string }[];
}

describe("CNI plugin in real namespaces", { skip: !isRoot() && "needs root", timeout: 180_000 }, () => {
  let dir = "";
  let etcd: EtcdServer | null = null;
  const startup: StartupResult[] = [];
  const pods: (PodRef & { node: string })[] = [
    {
      node: "node1",
      hostNetns: hosts[0]!.netns,
      podNetns: `${p}-pa`,
      namespace: "default",
      pod: "pod-a",
      containerId: `${p}a0`,
    },
    {
      node: "node1",
      hostNetns: hosts[0]!.netns,
      podNetns: `${p}-pb`,
      namespace: "default",
      pod: "pod-b",
      containerId: `${p}b0`,
    },
    {
      node: "node2",
      hostNetns: hosts[1]!.netns,
      podNetns: `${p}-pc`,
      namespace: "lab",
      pod: "pod-c",
      containerId: `${p}c0`,
    },
  ];
  const conf = (node: string, v: "0.3.1" | "1.0.0" = "1.0.0") =>
    cniNetworkConfig({ etcdEndpoints: [endpoint], nodename: node, cniVersion: v });
  const addr: Record<string, string> = {};

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "calico-lab-cni-"));
    await createNetns(sw);
    await createBridge(sw, "br0", 1500);
    for (const [i, h] of hosts.entries()) {
      await createNetns(h.netns);
      await createVethPair({
        netns: h.netns,
        ifname: "eth0",
        peerNetns: sw,
        peerIfname: `port${i}`,
        mtu: 1500,
        peerBridge: "br0",
      });
      await addAddress(h.netns, "eth0", `${h.addr}/24`);
      // Like a real host, each has a default route: proxy ARP answers for 169.254.1.1 only when the
      // host has a route to it through another interface (Calico relies on the host's default route).
      await run(["ip", "-n", h.netns, "route", "replace", "default", "dev", "eth0"]);
    }
    for (const pod of pods) await createNetns(pod.podNetns);
    etcd = await startEtcd({
      name: "master",
      dataDir: join(dir, "etcd"),
      address: hosts[0]!.addr,
      netns: hosts[0]!.netns,
      logFile: join(dir, "etcd.log"),
    });
  });

  after(async () => {
    await etcd?.stop();
    await removeNetnsWithPrefix(p);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("calico-node startup: autodetects the underlay address, registers nodes, one default pool, tunnel address = first IP of the first block", async () => {
    for (const h of hosts) {
      startup.push(
        await runCalicoNodeIn(h.netns, {
          NODENAME: h.name,
          ETCD_ENDPOINTS: endpoint,
          IP_AUTODETECTION_METHOD: "first-found",
          CALICO_IPV4POOL_CIDR: "10.244.0.0/16",
          CALICO_IPV4POOL_IPIP: "Always",
          AS: "64512",
        }),
      );
    }
    for (const [i, r] of startup.entries()) {
      assert.equal(r.node.spec.bgp?.ipv4Address, `${hosts[i]!.addr}/24`);
      assert.equal(r.node.spec.bgp?.asNumber, 64512);
      assert.match(r.tunnelAddress ?? "", /^10\.244\.\d+\.(0|64|128|192)$/, "first address of a /26 block");
      assert.equal(r.node.spec.bgp?.ipv4IPIPTunnelAddr, r.tunnelAddress);
    }
    assert.equal(startup[0]!.poolCreated, true);
    assert.equal(startup[1]!.poolCreated, false, "the pool exists: not created again");
    // A changed CALICO_IPV4POOL_CIDR does not alter the existing pool; startup says so and keeps the address.
    const again = await runCalicoNodeIn(hosts[0]!.netns, {
      NODENAME: "node1",
      ETCD_ENDPOINTS: endpoint,
      CALICO_IPV4POOL_CIDR: "10.10.0.0/16",
      AS: "64512",
    });
    assert.equal(again.poolCreated, false);
    assert.equal(again.tunnelAddress, startup[0]!.tunnelAddress);
  });

  test("ADD: pod interface, addresses, routes and host side have Calico's shape", async () => {
    for (const [i, pod] of pods.entries()) {
      const result = await invokeCni("ADD", pod, conf(pod.node, i === 2 ? "0.3.1" : "1.0.0"));
      assert.ok(result);
      const ip = result.ips[0]!.address.replace("/32", "");
      addr[pod.pod] = ip;
      assert.equal(result.ips[0]!.address, `${ip}/32`);
      if (i === 2) assert.equal(result.ips[0]!.version, "4");
      else assert.equal(result.ips[0]!.version, undefined);
      const hostIf = vethName(pod.namespace, pod.pod);
      assert.equal(result.interfaces[0]!.name, hostIf);

      // pod: eth0 with exactly the /32, link-scope route to 169.254.1.1, default via it
      const links = JSON.parse(
        await run(["ip", "-n", pod.podNetns, "-j", "-4", "addr", "show"]),
      ) as AddrJson[];
      const eth0 = links.find((l) => l.ifname === "eth0");
      assert.deepEqual(
        eth0?.addr_info.map((a) => `${a.local}/${a.prefixlen} ${a.scope}`),
        [`${ip}/32 global`],
      );
      const routes = (await run(["ip", "-n", pod.podNetns, "route", "show"]))
        .trim()
        .split("\n")
        .map((l) => l.trimEnd());
      assert.deepEqual(routes, ["default via 169.254.1.1 dev eth0", "169.254.1.1 dev eth0 scope link"]);

      // host: cali… with ee:ee:ee:ee:ee:ee, no address, proxy_arp on, /32 route scope link
      const [hl] = JSON.parse(
        await run(["ip", "-n", pod.hostNetns, "-j", "addr", "show", "dev", hostIf]),
      ) as (AddrJson & { address: string })[];
      assert.equal(hl?.address, "ee:ee:ee:ee:ee:ee");
      assert.deepEqual(
        hl?.addr_info.filter((a) => a.family === "inet"),
        [],
      );
      assert.equal(
        (await run(inNetns(pod.hostNetns, ["sysctl", "-n", `net.ipv4.conf.${hostIf}.proxy_arp`]))).trim(),
        "1",
      );
      const hostRoute = (await run(["ip", "-n", pod.hostNetns, "route", "show", `${ip}/32`])).trim();
      assert.equal(hostRoute, `${ip} dev ${hostIf} scope link`);
      // Felix's static ARP entry for the workload: the pod's MAC, permanent.
      const [pl] = JSON.parse(await run(["ip", "-n", pod.podNetns, "-j", "link", "show", "dev", "eth0"])) as {
        address: string;
      }[];
      const neigh = (await run(["ip", "-n", pod.hostNetns, "neigh", "show", "dev", hostIf])).trim();
      assert.equal(neigh, `${ip} lladdr ${pl!.address} PERMANENT`);

      await invokeCni("CHECK", pod, { ...conf(pod.node), prevResult: result });
    }
  });

  test("same-host pod↔pod ping works; ARP for 169.254.1.1 is ee:ee:ee:ee:ee:ee", async () => {
    const [a, b] = pods;
    await run(inNetns(a!.podNetns, ["ping", "-c", "2", "-W", "2", "-i", "0.2", addr["pod-b"]!]));
    await run(inNetns(b!.podNetns, ["ping", "-c", "1", "-W", "2", addr["pod-a"]!]));
    const neigh = (await run(["ip", "-n", a!.podNetns, "neigh", "show", "169.254.1.1"])).trim();
    assert.match(neigh, /^169\.254\.1\.1 dev eth0 lladdr ee:ee:ee:ee:ee:ee (REACHABLE|STALE|DELAY)$/);
  });

  test("pods on each node take addresses from that node's block (after the tunnel address)", () => {
    const base = (ip: string) => ip.split(".").slice(0, 3).join(".");
    const t1 = startup[0]!.tunnelAddress!;
    const t2 = startup[1]!.tunnelAddress!;
    const next = (ip: string, n: number) => `${base(ip)}.${Number(ip.split(".")[3]) + n}`;
    assert.equal(addr["pod-a"], next(t1, 1));
    assert.equal(addr["pod-b"], next(t1, 2));
    assert.equal(addr["pod-c"], next(t2, 1));
  });

  test("calicoctl tables: ipam show, get nodes/ippools/workloadendpoints -o wide", async () => {
    const ctl = (...args: string[]) =>
      run(inNetns(hosts[0]!.netns, ["scripts/calicoctl", ...args]), { env: { ETCD_ENDPOINTS: endpoint } });
    const ipam = await ctl("ipam", "show");
    assert.match(ipam, /\| IP Pool +\| 10\.244\.0\.0\/16 +\| +\| 65536 +\| 5 \(0%\) +\| 65531 \(100%\) +\|/);
    assert.match(ipam, /\| Block +\| 10\.244\.\d+\.\d+\/26 +\| node1 +\| 64 +\| 3 \(5%\) +\| 61 \(95%\) +\|/);
    const nodes = await ctl("get", "nodes", "-o", "wide");
    assert.match(nodes, /^node1 +64512 +10\.99\.0\.11\/24 /m);
    assert.match(
      await ctl("get", "ippools", "-o", "wide"),
      /default-ipv4-ippool +10\.244\.0\.0\/16 +true +Always +Never +false/,
    );
    const weps = await ctl("get", "wep", "-o", "wide");
    assert.match(
      weps,
      new RegExp(
        `^default +node1-k8s-pod--a-eth0 +pod-a +node1 +${addr["pod-a"]!.replace(/\./g, "\\.")}/32 +${vethName("default", "pod-a")}`,
        "m",
      ),
    );
  });

  test("CNI error JSON for a bad request", async () => {
    await assert.rejects(
      invokeCni("ADD", { ...pods[0]!, podNetns: `${p}-nope` }, conf("node1")),
      (e: Error & { code?: number }) => e.code === 5 || e.code === 999 || /nope/.test(e.message),
    );
  });

  test("DEL twice succeeds and leaves nothing behind", async () => {
    for (const pod of pods) {
      await invokeCni("DEL", pod, conf(pod.node));
      await invokeCni("DEL", pod, conf(pod.node));
      const hostIf = vethName(pod.namespace, pod.pod);
      const link = await tryRun(["ip", "-n", pod.hostNetns, "link", "show", "dev", hostIf]);
      assert.notEqual(link.exitCode, 0, `${hostIf} still there`);
      assert.equal(
        (await run(["ip", "-n", pod.hostNetns, "route", "show", `${addr[pod.pod]}/32`])).trim(),
        "",
      );
      assert.equal(
        (await run(["ip", "-n", pod.podNetns, "-4", "addr", "show", "dev", "lo"])).includes(addr[pod.pod]!),
        false,
      );
      assert.notEqual((await tryRun(["ip", "-n", pod.podNetns, "link", "show", "dev", "eth0"])).exitCode, 0);
    }
    // Datastore: no workload endpoints, only the two tunnel addresses allocated.
    const keys = (
      await run(
        inNetns(hosts[0]!.netns, [
          "etcdctl",
          "--endpoints",
          endpoint,
          "get",
          "--prefix",
          "--keys-only",
          "/calico/",
        ]),
      )
    )
      .split("\n")
      .filter(Boolean);
    assert.deepEqual(
      keys.filter((k) => k.includes("workloadendpoints")),
      [],
    );
    assert.deepEqual(keys.filter((k) => k.startsWith("/calico/ipam/v2/handle/")).sort(), [
      "/calico/ipam/v2/handle/ipip-tunnel-addr-node1",
      "/calico/ipam/v2/handle/ipip-tunnel-addr-node2",
    ]);
  });
});
