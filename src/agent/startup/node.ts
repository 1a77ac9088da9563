// calico-node's startup: detect the node's address, register the Node resource, create the default
// pool when none exists, and keep the IPIP tunnel address in step with the pools.
import { Datastore, type EtcdTls } from "../datastore/etcd.ts";
import { resourceKey, newResource, type CalicoNode, type EncapMode } from "../datastore/keys.ts";
import { Ipam } from "../ipam/allocator.ts";
import { autodetect, type AutodetectionMethod, type Detected } from "./autodetect.ts";
import { ensureDefaultPool, listPools, selectorMatches, type DefaultPoolSettings } from "./pool.ts";

export interface AgentSettings {
  /** NODENAME */
  nodeName: string;
  /** The host's network namespace (where autodetection looks). */
  netns: string;
  etcd: { endpoints: string[]; tls?: EtcdTls };
  /** IP_AUTODETECTION_METHOD; ignored when `ipv4Address` is given (IP=a.b.c.d/len). */
  autodetection: AutodetectionMethod;
  ipv4Address?: string;
  /** AS; absent: the cluster default (BGPConfiguration) applies. */
  asNumber?: number;
  routeReflectorClusterID?: string;
  labels?: Record<string, string>;
  /** CALICO_IPV4POOL_* */
  pool: DefaultPoolSettings;
}

export interface StartupResult {
  node: CalicoNode;
  detected: Detected | null;
  poolCreated: boolean;
  tunnelAddress: string | null;
}

export function tunnelHandleId(node: string): string {
  return `ipip-tunnel-addr-${node}`;
}

/** Creates or updates the Node resource (CAS loop), applying `mutate` to its spec. */
export async function updateNode(
  ds: Datastore,
  name: string,
  mutate: (n: CalicoNode) => CalicoNode,
): Promise<CalicoNode> {
  const key = resourceKey("nodes", name);
  for (let i = 0; i < 100; i++) {
    const cur = await ds.getJson<CalicoNode>(key);
    const base: CalicoNode =
      cur?.value ?? newResource("Node", { name, creationTimestamp: new Date().toISOString() }, {});
    const next = mutate(structuredClone(base));
    if (await ds.cas([{ key, value: JSON.stringify(next), rev: cur ? cur.rev : "0" }])) return next;
  }
  throw new Error(`could not update node ${name}: too many conflicting writes`);
}

/** Registers the node: bgp.ipv4Address (with prefix length), asNumber, routeReflectorClusterID, labels. */
export async function registerNode(
  ds: Datastore,
  s: Pick<AgentSettings, "nodeName" | "asNumber" | "routeReflectorClusterID" | "labels">,
  ipv4Address: string,
): Promise<CalicoNode> {
  return ds.withRetry("register node", () =>
    updateNode(ds, s.nodeName, (n) => {
      const bgp = { ...(n.spec.bgp ?? {}), ipv4Address };
      if (s.asNumber !== undefined) bgp.asNumber = s.asNumber;
      else delete bgp.asNumber;
      if (s.routeReflectorClusterID) bgp.routeReflectorClusterID = s.routeReflectorClusterID;
      else delete bgp.routeReflectorClusterID;
      n.spec = { ...n.spec, bgp, orchRefs: [{ nodeName: s.nodeName, orchestrator: "k8s" }] };
      n.metadata.labels = {
        "kubernetes.io/hostname": s.nodeName,
        "kubernetes.io/os": "linux",
        ...(s.labels ?? {}),
      };
      return n;
    }),
  );
}

/**
 * The IPIP tunnel address: allocated with handle ipip-tunnel-addr-<node> from the pools with IPIP on
 * that select the node (so the first address of the node's first block), stored in the Node; released
 * when no IPIP pool selects the node any more.
 */
export async function reconcileTunnelAddress(
  ds: Datastore,
  nodeName: string,
  log: (m: string) => void,
): Promise<string | null> {
  const node = await ds.getJson<CalicoNode>(resourceKey("nodes", nodeName));
  const labels = node?.value.metadata.labels ?? {};
  const ipipOn = (m: EncapMode) => m === "Always" || m === "CrossSubnet";
  const pools = (await listPools(ds)).filter(
    (p) => !p.spec.disabled && ipipOn(p.spec.ipipMode) && selectorMatches(p.spec.nodeSelector, labels),
  );
  const ipam = new Ipam(ds);
  const handle = tunnelHandleId(nodeName);
  if (pools.length === 0) {
    const released = await ipam.releaseByHandle(handle);
    if (released.length > 0)
      log(`released IPIP tunnel address ${released.join(",")}: no IPIP pool selects ${nodeName}`);
    await updateNode(ds, nodeName, (n) => {
      if (n.spec.bgp) delete n.spec.bgp.ipv4IPIPTunnelAddr;
      return n;
    });
    return null;
  }
  const held = await ipam.ipsByHandle(handle);
  const ip =
    held[0] ??
    (
      await ipam.autoAssign({
        host: nodeName,
        handleId: handle,
        attrs: { node: nodeName, type: "ipipTunnelAddress" },
        pools: pools.map((p) => ({ cidr: p.spec.cidr, blockSize: p.spec.blockSize })),
      })
    )[0]!;
  if (held.length === 0) log(`assigned IPIP tunnel address ${ip} to ${nodeName}`);
  await updateNode(ds, nodeName, (n) => {
    n.spec.bgp = { ...(n.spec.bgp ?? {}), ipv4IPIPTunnelAddr: ip };
    return n;
  });
  return ip;
}

/** The whole startup for one node. */
export async function runStartup(
  s: AgentSettings,
  log: (m: string) => void = console.log,
): Promise<StartupResult> {
  const ds = new Datastore({ endpoints: s.etcd.endpoints, ...(s.etcd.tls ? { tls: s.etcd.tls } : {}) });
  try {
    let detected: Detected | null = null;
    let address = s.ipv4Address;
    if (!address) {
      detected = await autodetect(s.netns, s.autodetection);
      address = detected.cidr;
      log(`${s.nodeName}: autodetected ${address} on ${detected.ifname} (${s.autodetection.kind})`);
    }
    await registerNode(ds, s, address);
    const { created } = await ensureDefaultPool(ds, s.pool, log);
    const tunnelAddress = await ds.withRetry("tunnel address", () =>
      reconcileTunnelAddress(ds, s.nodeName, log),
    );
    const node = (await ds.getJson<CalicoNode>(resourceKey("nodes", s.nodeName)))!.value;
    return { node, detected, poolCreated: created, tunnelAddress };
  } finally {
    ds.close();
  }
}
