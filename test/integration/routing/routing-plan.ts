// The routing lab's options as what a user would write in a stack (hosts node-1… from 10.99.0.11, a routed
// second subnet, the pods), read by the lab's own config reader and planned by planLab. Pure.
import { CONFIG_NAMESPACE } from "../../../src/config/model.ts";
import { readLabConfig } from "../../../src/config/read.ts";
import { formatProblems } from "../../../src/problems.ts";
import type { CalicoVariant, LabNetwork, Mode } from "../../../src/manifest/index.ts";
import { planLab, type LabPlan } from "../../../src/lab/topology.ts";

export const POD_CIDR = "10.244.0.0/16";
export const UNDERLAY = "10.99.0";
/** A routed lab's second subnet (hosts from `routedFrom` on), behind the router namespace. */
export const FAR_UNDERLAY = "10.99.1";

export interface RoutingLabOptions {
  tag: string;
  hosts: number;
  preset: Mode;
  /** Labels and RR cluster ids per host index (on the agents only: the lab applies no BGP config for them). */
  hostExtras?: (i: number) => { labels?: Record<string, string>; rrClusterId?: string };
  /** How long startAgent waits for each agent to be ready (default 60 s; a VM under TCG needs more). */
  readyTimeoutMs?: number;
  /** The agents' periodic resync (default the daemon's 5 s; under TCG a resync pass itself takes seconds). */
  resyncMs?: number;
  /**
   * Routed underlay: hosts from this index on are in ${FAR_UNDERLAY}.0/24 on a second bridge (br1), and a
   * router namespace (<prefix>-router, .1 in each subnet, forwarding, no pod routes) joins the two.
   */
  routedFrom?: number;
}

/** The Calico variant the stack config means, and the network around it (as the program renders it). */
export interface RoutingLabVariant {
  variant: CalicoVariant;
  network: LabNetwork;
}

/** The routing lab as stack config: what a user would write for the same lab. */
export function labConfigValues(
  o: RoutingLabOptions,
  pods: { name: string; host: string }[],
): Record<string, unknown> {
  const routed = o.routedFrom !== undefined;
  return {
    mode: o.preset,
    underlayCidr: `${UNDERLAY}.0/24`,
    ...(routed ? { routedCidr: `${FAR_UNDERLAY}.0/24` } : {}),
    podCidr: POD_CIDR,
    // 10.99.0.0/24 is inside the default service network 10.96.0.0/12.
    serviceCidr: "172.16.0.0/12",
    hosts: Array.from({ length: o.hosts }, (_, i) => ({
      name: `node-${i + 1}`,
      address: `${routed && i >= o.routedFrom! ? FAR_UNDERLAY : UNDERLAY}.${11 + i}`,
    })),
    pods,
  };
}

/** The lab's plan for the options and pods, the test's extra labels and cluster ids on its hosts. */
export function routingLabPlan(
  stack: string,
  o: RoutingLabOptions,
  pods: { name: string; host: string }[],
): { plan: LabPlan; variant: RoutingLabVariant } {
  const raw = labConfigValues(o, pods);
  const checked = readLabConfig(
    stack,
    raw,
    Object.keys(raw).map((k) => `${CONFIG_NAMESPACE}:${k}`),
  );
  if (!checked.ok) throw new Error(formatProblems(`routing lab ${stack}`, checked.problems));
  const plan = planLab(checked.config);
  plan.hosts.forEach((h, i) => {
    const extra = o.hostExtras?.(i) ?? {};
    h.labels = { ...h.labels, ...extra.labels };
    if (extra.rrClusterId) h.rrClusterId = extra.rrClusterId;
  });
  return { plan, variant: { variant: checked.variant, network: checked.network } };
}
