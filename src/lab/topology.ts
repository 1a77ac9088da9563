// The lab's plan: which namespaces, links and addresses a LabConfig means. Pure: no effects here.
import { RR_CLUSTER_ID, type HostConfig, type LabConfig, type Mode } from "../config/lab-config.ts";

/** The switch namespace holds the underlay bridge; each host's eth0 is a veth whose peer is a bridge port. */
export const UNDERLAY_BRIDGE = "br0";
export const HOST_UNDERLAY_IF = "eth0";

export interface HostPlan {
  name: string;
  netns: string;
  /** Underlay interface inside the host namespace. */
  ifname: string;
  /** Bridge port name inside the switch namespace (the host's name). */
  port: string;
  address: string;
  /** address/prefix on the underlay. */
  cidr: string;
  labels: Record<string, string>;
  /** Set on route reflectors (Calico's routeReflectorClusterID). */
  rrClusterId?: string;
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

export interface OutsidePlan {
  name: "outside";
  netns: string;
  ifname: string;
  port: string;
  address: string;
  cidr: string;
  asNumber?: number;
}

export interface LabPlan {
  stack: string;
  mode: Mode;
  switchNetns: string;
  bridge: string;
  mtu: number;
  underlayCidr: string;
  podCidr: string;
  hosts: HostPlan[];
  pods: PodPlan[];
  outside: OutsidePlan;
  routeReflectors: string[];
  /** The master runs etcd on its underlay address. */
  etcd: { host: string; netns: string; address: string; endpoint: string };
}

export const ECHO_PORT = 8080;

export function netnsName(stack: string, suffix: string): string {
  return `${stack}-${suffix}`;
}

export function planHost(config: LabConfig, host: HostConfig): HostPlan {
  const rr = config.routeReflectors.includes(host.name);
  return {
    name: host.name,
    netns: netnsName(config.stack, host.name),
    ifname: HOST_UNDERLAY_IF,
    port: host.name,
    address: host.address,
    cidr: `${host.address}/${config.underlayPrefixLength}`,
    labels: rr ? { ...host.labels, "route-reflector": "true" } : host.labels,
    ...(rr ? { rrClusterId: RR_CLUSTER_ID } : {}),
  };
}

export function planLab(config: LabConfig): LabPlan {
  const hosts = config.hosts.map((h) => planHost(config, h));
  const master = hosts[0]!;
  return {
    stack: config.stack,
    mode: config.mode,
    switchNetns: netnsName(config.stack, "underlay"),
    bridge: UNDERLAY_BRIDGE,
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
      address: config.outside.address,
      cidr: `${config.outside.address}/${config.underlayPrefixLength}`,
      ...(config.outside.asNumber !== undefined ? { asNumber: config.outside.asNumber } : {}),
    },
    routeReflectors: config.routeReflectors,
    etcd: {
      host: master.name,
      netns: master.netns,
      address: master.address,
      endpoint: `http://${master.address}:2379`,
    },
  };
}

export interface PingPair {
  from: string;
  fromNetns: string;
  to: string;
  address: string;
}

/** Every host to every other host, in config order. */
export function underlayPingPairs(plan: LabPlan): PingPair[] {
  const pairs: PingPair[] = [];
  for (const a of plan.hosts)
    for (const b of plan.hosts)
      if (a !== b) pairs.push({ from: a.name, fromNetns: a.netns, to: b.name, address: b.address });
  return pairs;
}
