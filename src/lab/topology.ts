// The lab's plan: which namespaces, links and addresses a LabConfig means. Pure: no effects here.
import { IPv4CidrRange } from "ip-num";
import { etcdEndpointOf, etcdHostOf } from "../config/etcd.ts";
import {
  RR_CLUSTER_ID,
  type HostConfig,
  type HostBackend,
  type KubernetesSetting,
  type LabConfig,
} from "../config/model.ts";
import { routerAddress } from "../config/network.ts";
import type { Mode } from "../modes.ts";
import { hostBackends } from "../backends/index.ts";
import type { HostMachine, VmMachine } from "../backends/types.ts";

/** The switch namespace holds the underlay bridge; each host's eth0 is a veth whose peer is a bridge port. */
export const UNDERLAY_BRIDGE = "br0";
/** A routed underlay's second subnet has its own bridge in the same switch namespace. */
export const ROUTED_BRIDGE = "br1";
export const HOST_UNDERLAY_IF = "eth0";

/** A route an underlay interface gets: `to` (default or a CIDR), through `via` or straight out of the link. */
export interface UnderlayRoute {
  to: string;
  via?: string;
}

/** One L2 segment of the underlay: a bridge, and on a routed underlay the router's address in it. */
export interface SubnetPlan {
  cidr: string;
  bridge: string;
  router?: string;
}

export interface RouterLeg {
  ifname: string;
  port: string;
  bridge: string;
  address: string;
  cidr: string;
}

/** The router namespace of a routed underlay: a leg in each subnet, forwarding on, no pod routes. */
export interface RouterPlan {
  name: "router";
  netns: string;
  legs: RouterLeg[];
}

/** A namespace on the underlay: its eth0 is a veth whose peer is a port of its subnet's bridge. */
export interface UnderlayAttachment {
  netns: string;
  /** Underlay interface inside the namespace. */
  ifname: string;
  /** Bridge port name inside the switch namespace (the host's name). */
  port: string;
  /** The bridge of the host's subnet. */
  bridge: string;
  address: string;
  /** address/prefix on the underlay. */
  cidr: string;
  routes: UnderlayRoute[];
}

export interface HostPlan extends UnderlayAttachment {
  name: string;
  /** The subnet the host is in. */
  subnet: string;
  labels: Record<string, string>;
  /** Set on route reflectors (Calico's routeReflectorClusterID). */
  rrClusterId?: string;
  /** What the host is (its backend's kind) and the plan fields its backend needs (src/backends). */
  machine: HostMachine;
}

export interface PodPlan {
  name: string;
  netns: string;
  host: string;
  hostNetns: string;
  /** Kubernetes-style identity the CNI plugin is called with. */
  namespace: string;
  containerId: string;
  server: boolean;
}

export interface OutsidePlan extends UnderlayAttachment {
  name: "outside";
  asNumber?: number;
}

export interface LabPlan {
  stack: string;
  mode: Mode;
  backend: HostBackend;
  /**
   * Who runs the pods: the lab itself (`none`) or a kubeadm cluster on the VM hosts (`kubeadm`). Code that
   * builds or checks something differently for a cluster switches over it with a `never` default
   * (kubernetesPath), so a new setting is a compile error wherever it must be handled.
   */
  kubernetes: KubernetesSetting;
  switchNetns: string;
  /** The first subnet's bridge. */
  bridge: string;
  /** The underlay's subnets: one (flat) or two joined by `router` (routed). */
  subnets: SubnetPlan[];
  router?: RouterPlan;
  mtu: number;
  underlayCidr: string;
  podCidr: string;
  hosts: HostPlan[];
  pods: PodPlan[];
  outside: OutsidePlan;
  routeReflectors: string[];
  /**
   * The master runs etcd on its underlay address. `clientNetns`: where this machine's datastore clients (the
   * BGP configuration's apply, the verification's reads) run: the master's namespace where it lives in this
   * kernel; the outside host's, across the underlay, where the master is a VM, so that they do not start in
   * an emulated guest (seconds each under TCG) beside its control plane.
   */
  etcd: { host: string; netns: string; clientNetns: string; address: string; endpoint: string };
}

export const ECHO_PORT = 8080;

export function netnsName(stack: string, suffix: string): string {
  return `${stack}-${suffix}`;
}

export function planSubnets(config: LabConfig): SubnetPlan[] {
  const first = IPv4CidrRange.fromCidr(config.underlayCidr);
  if (!config.routed) return [{ cidr: config.underlayCidr, bridge: UNDERLAY_BRIDGE }];
  const second = IPv4CidrRange.fromCidr(config.routed.cidr);
  return [
    { cidr: config.underlayCidr, bridge: UNDERLAY_BRIDGE, router: routerAddress(first).toString() },
    { cidr: config.routed.cidr, bridge: ROUTED_BRIDGE, router: routerAddress(second).toString() },
  ];
}

/** The subnet holding an address (readLabConfig guarantees there is one). */
export function subnetOf(subnets: readonly SubnetPlan[], address: string): SubnetPlan {
  const ip = IPv4CidrRange.fromCidr(`${address}/32`);
  const s = subnets.find((n) => IPv4CidrRange.fromCidr(n.cidr).contains(ip));
  if (!s)
    throw new Error(`${address} is in none of the underlay subnets ${subnets.map((n) => n.cidr).join(", ")}`);
  return s;
}

const prefixOf = (cidr: string) => cidr.split("/")[1]!;

/** Flat: everything beyond the pools is on the wire. Routed: the router is the way out of the subnet. */
function hostRoutes(subnet: SubnetPlan): UnderlayRoute[] {
  return [subnet.router ? { to: "default", via: subnet.router } : { to: "default" }];
}

/** A host as a plan stored by an earlier version holds it (a Verification's state): `vm?` for `machine`. */
type StoredHost = Omit<HostPlan, "machine"> & { machine?: HostMachine; vm?: Omit<VmMachine, "kind"> };

/** A plan as an earlier version stored it: `vm?` for `machine`, no `kubernetes` (it had none), no etcd `clientNetns`. */
type StoredPlan = Omit<LabPlan, "hosts" | "kubernetes" | "etcd"> & {
  hosts: StoredHost[];
  kubernetes?: KubernetesSetting;
  etcd: Omit<LabPlan["etcd"], "clientNetns"> & { clientNetns?: string };
};

/**
 * A plan read back from a resource's state, with every host's `machine` (older states have `vm?`) and
 * `kubernetes` (older states, made before the setting existed, are `none`) and etcd's `clientNetns` (older
 * states ran the datastore's clients in the master's namespace). Pure.
 */
export function planFromState(plan: StoredPlan): LabPlan {
  const host = ({ vm, machine, ...h }: StoredHost): HostPlan => ({
    ...h,
    machine: machine ?? (vm ? { kind: "vm", ...vm } : { kind: "netns" }),
  });
  return {
    ...plan,
    kubernetes: plan.kubernetes ?? "none",
    hosts: plan.hosts.map(host),
    etcd: { ...plan.etcd, clientNetns: plan.etcd.clientNetns ?? plan.etcd.netns },
  };
}

/**
 * The one value of `handlers` for the plan's setting. Exhaustive by type: a `Record` over every
 * setting, so a new setting does not compile until each caller says what it means there.
 */
export function kubernetesPath<T>(
  plan: Pick<LabPlan, "kubernetes">,
  handlers: Readonly<Record<KubernetesSetting, () => T>>,
): T {
  return handlers[plan.kubernetes]();
}

export function planHost(config: LabConfig, host: HostConfig, index = 0): HostPlan {
  const rr = config.routeReflectors.includes(host.name);
  const subnet = subnetOf(planSubnets(config), host.address);
  return {
    name: host.name,
    netns: netnsName(config.stack, host.name),
    ifname: HOST_UNDERLAY_IF,
    port: host.name,
    bridge: subnet.bridge,
    address: host.address,
    cidr: `${host.address}/${prefixOf(subnet.cidr)}`,
    subnet: subnet.cidr,
    routes: hostRoutes(subnet),
    labels: rr ? { ...host.labels, "route-reflector": "true" } : host.labels,
    ...(rr ? { rrClusterId: RR_CLUSTER_ID } : {}),
    machine: hostBackends[config.backend].machine(config.stack, host.name, index),
  };
}

function planRouter(config: LabConfig, subnets: readonly SubnetPlan[]): RouterPlan | undefined {
  if (subnets.length < 2) return undefined;
  return {
    name: "router",
    netns: netnsName(config.stack, "router"),
    legs: subnets.map((s, i) => ({
      ifname: `eth${i}`,
      // Dots cannot appear in host names, so these ports never clash with a host's.
      port: `router.${String.fromCharCode(97 + i)}`,
      bridge: s.bridge,
      address: s.router!,
      cidr: `${s.router!}/${prefixOf(s.cidr)}`,
    })),
  };
}

export function planLab(config: LabConfig): LabPlan {
  const hosts = config.hosts.map((h, i) => planHost(config, h, i));
  // etcd's host is the config's choice (src/config/etcd.ts), the one the Calico variant names too.
  const master = etcdHostOf({ hosts })!;
  const subnets = planSubnets(config);
  const router = planRouter(config, subnets);
  const first = subnets[0]!;
  return {
    stack: config.stack,
    mode: config.mode,
    backend: config.backend,
    kubernetes: config.kubernetes,
    switchNetns: netnsName(config.stack, "underlay"),
    bridge: UNDERLAY_BRIDGE,
    subnets,
    ...(router ? { router } : {}),
    mtu: config.mtu,
    underlayCidr: config.underlayCidr,
    podCidr: config.podCidr,
    hosts,
    pods: config.pods.map((p) => ({
      name: p.name,
      netns: netnsName(config.stack, p.name),
      host: p.host,
      hostNetns: netnsName(config.stack, p.host),
      namespace: "default",
      containerId: `${config.stack}-${p.name}`,
      server: p.server,
    })),
    outside: {
      name: "outside",
      netns: netnsName(config.stack, "outside"),
      ifname: HOST_UNDERLAY_IF,
      port: "outside",
      bridge: first.bridge,
      address: config.outside.address,
      cidr: `${config.outside.address}/${config.underlayPrefixLength}`,
      // No default route: the outside host knows no pods (natOutgoing must hide them). Routed: the far subnet.
      routes: subnets.slice(1).map((s) => ({ to: s.cidr, via: first.router! })),
      ...(config.outside.asNumber !== undefined ? { asNumber: config.outside.asNumber } : {}),
    },
    routeReflectors: config.routeReflectors,
    etcd: {
      host: master.name,
      netns: master.netns,
      clientNetns: master.machine.kind === "vm" ? netnsName(config.stack, "outside") : master.netns,
      address: master.address,
      endpoint: etcdEndpointOf(master),
    },
  };
}

/** Whether two hosts share an underlay subnet (traffic between them never crosses the router). */
export function sameSubnetHosts(a: Pick<HostPlan, "subnet">, b: Pick<HostPlan, "subnet">): boolean {
  return a.subnet === b.subnet;
}

/** The argv tail of `ip route replace` for an underlay route. */
export function underlayRouteArgs(r: UnderlayRoute, ifname: string): string[] {
  return [r.to, ...(r.via ? ["via", r.via] : []), "dev", ifname];
}

export interface PingPair {
  from: string;
  fromNetns: string;
  to: string;
  address: string;
}

/**
 * Host-to-host pings over the underlay: the given [from, to] pairs of host indexes (a big lab's ring
 * sample, verify/pod-sample.ts), or every host to every other host, in config order.
 */
export function underlayPingPairs(
  plan: LabPlan,
  nodePairs?: readonly (readonly [number, number])[],
): PingPair[] {
  const n = plan.hosts.length;
  const pairs =
    nodePairs ??
    plan.hosts.flatMap((_, a) => plan.hosts.flatMap((__, b) => (a === b ? [] : [[a, b] as const])));
  return pairs.map(([a, b]) => {
    if (a === b || a < 0 || b < 0 || a >= n || b >= n)
      throw new Error(`no host pair [${a}, ${b}] in ${n} hosts`);
    const from = plan.hosts[a]!;
    const to = plan.hosts[b]!;
    return { from: from.name, fromNetns: from.netns, to: to.name, address: to.address };
  });
}
