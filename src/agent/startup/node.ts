// calico-node's startup: detect the node's address, register the Node resource, create the default
// pool when none exists, and keep the IPIP tunnel address in step with the pools.
import { Datastore, type EtcdTls } from "../datastore/etcd.ts";
import { resourceKey, newResource, type CalicoNode, type EncapMode, type IPPool } from "../datastore/keys.ts";
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
  vxlanTunnelAddress: string | null;
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

export function vxlanTunnelHandleId(node: string): string {
  return `vxlan-tunnel-addr-${node}`;
}

export type TunnelKind = "ipip" | "vxlan";

const TUNNEL = {
  ipip: {
    handle: tunnelHandleId,
    type: "ipipTunnelAddress",
    mode: (p: IPPool) => p.spec.ipipMode,
    get: (n: CalicoNode) => n.spec.bgp?.ipv4IPIPTunnelAddr,
    set: (n: CalicoNode, ip: string | undefined) => {
      if (ip) n.spec.bgp = { ...(n.spec.bgp ?? {}), ipv4IPIPTunnelAddr: ip };
      else if (n.spec.bgp) delete n.spec.bgp.ipv4IPIPTunnelAddr;
    },
  },
  vxlan: {
    handle: vxlanTunnelHandleId,
    type: "vxlanTunnelAddress",
    mode: (p: IPPool) => p.spec.vxlanMode,
    get: (n: CalicoNode) => n.spec.ipv4VXLANTunnelAddr,
    set: (n: CalicoNode, ip: string | undefined) => {
      if (ip) n.spec.ipv4VXLANTunnelAddr = ip;
      else delete n.spec.ipv4VXLANTunnelAddr;
    },
  },
} as const;

/**
 * A tunnel address (IPIP: handle ipip-tunnel-addr-<node>, Node bgp.ipv4IPIPTunnelAddr; VXLAN: handle
 * vxlan-tunnel-addr-<node>, Node ipv4VXLANTunnelAddr), allocated from the pools with that encapsulation
 * on that select the node (so the first address of the node's first block), released when no such pool
 * selects the node any more. Writes nothing when the Node already says the right thing (the routing loop
 * calls this on every datastore change; a write would wake every watcher again).
 */
export async function reconcileTunnel(
  ds: Datastore,
  kind: TunnelKind,
  nodeName: string,
  log: (m: string) => void,
): Promise<string | null> {
  const t = TUNNEL[kind];
  const node = await ds.getJson<CalicoNode>(resourceKey("nodes", nodeName));
  const labels = node?.value.metadata.labels ?? {};
  const on = (m: EncapMode) => m === "Always" || m === "CrossSubnet";
  const pools = (await listPools(ds)).filter(
    (p) => !p.spec.disabled && on(t.mode(p)) && selectorMatches(p.spec.nodeSelector, labels),
  );
  const ipam = new Ipam(ds);
  const handle = t.handle(nodeName);
  const current = node ? t.get(node.value) : undefined;
  if (pools.length === 0) {
    const released = await ipam.releaseByHandle(handle);
    if (released.length > 0)
      log(
        `released ${kind.toUpperCase()} tunnel address ${released.join(",")}: no ${kind} pool selects ${nodeName}`,
      );
    if (current !== undefined)
      await updateNode(ds, nodeName, (n) => {
        t.set(n, undefined);
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
        attrs: { node: nodeName, type: t.type },
        pools: pools.map((p) => ({ cidr: p.spec.cidr, blockSize: p.spec.blockSize })),
      })
    )[0]!;
  if (held.length === 0) log(`assigned ${kind.toUpperCase()} tunnel address ${ip} to ${nodeName}`);
  if (current !== ip)
    await updateNode(ds, nodeName, (n) => {
      t.set(n, ip);
      return n;
    });
  return ip;
}

/** The IPIP tunnel address (see reconcileTunnel). */
export function reconcileTunnelAddress(
  ds: Datastore,
  nodeName: string,
  log: (m: string) => void,
): Promise<string | null> {
  return reconcileTunnel(ds, "ipip", nodeName, log);
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
    const vxlanTunnelAddress = await ds.withRetry("VXLAN tunnel address", () =>
      reconcileTunnel(ds, "vxlan", s.nodeName, log),
    );
    const node = (await ds.getJson<CalicoNode>(resourceKey("nodes", s.nodeName)))!.value;
    return { node, detected, poolCreated: created, tunnelAddress, vxlanTunnelAddress };
  } finally {
    ds.close();
  }
}
