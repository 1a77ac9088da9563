// The lab's plan: which namespaces, links and addresses a LabConfig means. Pure: no effects here.
import type { HostConfig, LabConfig } from "../config/lab-config.ts";

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
}

export interface LabPlan {
  stack: string;
  switchNetns: string;
  bridge: string;
  mtu: number;
  hosts: HostPlan[];
}

export function netnsName(stack: string, suffix: string): string {
  return `${stack}-${suffix}`;
}

export function planHost(config: LabConfig, host: HostConfig): HostPlan {
  return {
    name: host.name,
    netns: netnsName(config.stack, host.name),
    ifname: HOST_UNDERLAY_IF,
    port: host.name,
    address: host.address,
    cidr: `${host.address}/${config.underlayPrefixLength}`,
    labels: host.labels,
  };
}

export function planLab(config: LabConfig): LabPlan {
  return {
    stack: config.stack,
    switchNetns: netnsName(config.stack, "underlay"),
    bridge: UNDERLAY_BRIDGE,
    mtu: config.mtu,
    hosts: config.hosts.map((h) => planHost(config, h)),
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
