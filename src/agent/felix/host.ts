// What the agent owns on its host besides Felix's tunnel routes: each local workload endpoint's /32 route
// to its cali interface and its static neighbour (as Felix programs them from the WorkloadEndpoint), and
// the host's own underlay address and routes on its underlay interface, the default route included (the
// lab's plan passes them: `--underlay-routes`). Pure: dataplane-host.ts diffs these against the kernel.
import { isIPv4 } from "node:net";
import type { WorkloadEndpoint } from "../datastore/keys.ts";
import type { NodeAddress } from "./plan.ts";

/** A route out of the underlay interface: `to` (default or a CIDR), through `via` or straight out. */
export interface UnderlayRoute {
  to: string;
  via?: string;
}

/** `<podIP>/32 dev <cali…> scope link` and `<podIP> lladdr <mac> dev <cali…> nud permanent`. */
export interface WorkloadRoute {
  dst: string;
  dev: string;
  /** The pod side's MAC (the endpoint's `mac`): the host's permanent neighbour for the pod. */
  mac?: string;
}

export interface HostPlan {
  /** The underlay interface (the one holding the node's address). */
  underlayIf: string;
  /** The node's address on it, with its prefix length. */
  address: NodeAddress;
  underlayRoutes: UnderlayRoute[];
  workloads: WorkloadRoute[];
}

const CIDR4 = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Workload interfaces are Calico's `cali` + 11 hex digits; anything else is not ours to route to. */
export const WORKLOAD_IF = /^cali[0-9a-f]{11}$/;

/**
 * `--underlay-routes` text: routes separated by commas, each `<to>` or `<to> via <gateway>`
 * (`default`, `default via 10.0.1.1`, `10.0.2.0/24 via 10.0.1.1`). Throws naming the bad part.
 */
export function parseUnderlayRoutes(text: string): UnderlayRoute[] {
  const out: UnderlayRoute[] = [];
  for (const part of text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const w = part.split(/\s+/);
    const to = w[0]!;
    const bad = () =>
      new Error(
        `invalid underlay route "${part}" in --underlay-routes: want "default", "default via <IPv4>" or "<CIDR> via <IPv4>"`,
      );
    if (to !== "default" && !CIDR4.test(to)) throw bad();
    if (w.length === 1) out.push({ to });
    else if (w.length === 3 && w[1] === "via" && isIPv4(w[2]!)) out.push({ to, via: w[2]! });
    else throw bad();
  }
  return out;
}

export function formatUnderlayRoutes(routes: readonly UnderlayRoute[]): string {
  return routes.map((r) => (r.via ? `${r.to} via ${r.via}` : r.to)).join(",");
}

/**
 * The /32 routes of this node's workload endpoints, one per address, sorted by destination. Endpoints of
 * other nodes, without an interface name of Calico's form, or without IPv4 /32 networks add nothing.
 */
export function workloadRoutes(endpoints: readonly WorkloadEndpoint[], node: string): WorkloadRoute[] {
  const out: WorkloadRoute[] = [];
  for (const e of endpoints) {
    if (e.spec.node !== node || !WORKLOAD_IF.test(e.spec.interfaceName)) continue;
    const mac = e.spec.mac && MAC.test(e.spec.mac.toLowerCase()) ? e.spec.mac.toLowerCase() : undefined;
    for (const n of e.spec.ipNetworks) {
      const [ip, len] = n.split("/");
      if (!ip || !isIPv4(ip) || (len !== undefined && len !== "32")) continue;
      out.push({ dst: `${ip}/32`, dev: e.spec.interfaceName, ...(mac ? { mac } : {}) });
    }
  }
  return out.sort((a, b) => (a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0));
}

export function planHost(o: {
  underlayIf: string;
  address: NodeAddress;
  underlayRoutes: readonly UnderlayRoute[];
  endpoints: readonly WorkloadEndpoint[];
  node: string;
}): HostPlan {
  return {
    underlayIf: o.underlayIf,
    address: o.address,
    underlayRoutes: [...o.underlayRoutes],
    workloads: workloadRoutes(o.endpoints, o.node),
  };
}

/** A route as `ip -j route show` prints it. */
export interface KernelRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  scope?: string;
  type?: string;
}

/** A permanent neighbour as `ip -j neigh show` prints it. */
export interface KernelNeigh {
  dst: string;
  dev?: string;
  lladdr?: string;
  state?: string[];
}

/** What the kernel shows of the host, as far as the plan looks. */
export interface HostState {
  /** Undefined: the underlay interface is gone. */
  underlay?: { up: boolean; cidrs: string[] };
  routes: readonly KernelRoute[];
  neighbours: readonly KernelNeigh[];
  /** Interfaces present (workload routes to absent ones wait for the CNI plugin to create them). */
  links: ReadonlySet<string>;
}

/** One change to make, as `ip -batch` lines (each also the log's words). */
export interface HostChanges {
  batch: string[];
  /** Underlay routes not programmed because the interface is down (the kernel drops them then). */
  waiting: string[];
}

const cidrOf = (a: NodeAddress) => `${a.ip}/${a.prefixLength}`;
const hostDst = (dst: string) => (dst.includes("/") ? dst : `${dst}/32`);

export function hasUnderlayRoute(routes: readonly KernelRoute[], r: UnderlayRoute, dev: string): boolean {
  return routes.some(
    (k) =>
      (k.type ?? "unicast") === "unicast" &&
      k.dev === dev &&
      (r.to === "default" ? k.dst === "default" : hostDst(k.dst) === r.to) &&
      (k.gateway ?? undefined) === r.via,
  );
}

/** `ip route replace` arguments (argv tail) of an underlay route. */
export function underlayRouteArgs(r: UnderlayRoute, dev: string): string[] {
  return [r.to, ...(r.via ? ["via", r.via] : []), "dev", dev];
}

/**
 * The changes that make the kernel hold the plan: the node's address on the underlay interface; its
 * routes once the interface is up; each workload's /32 route and permanent neighbour when its interface
 * exists. Only adds: what is there besides (other addresses, BIRD's routes, routes of gone workloads,
 * which go with their interface) is left alone. Pure.
 */
export function hostChanges(plan: HostPlan, state: HostState): HostChanges {
  const out: HostChanges = { batch: [], waiting: [] };
  const dev = plan.underlayIf;
  if (state.underlay) {
    if (!state.underlay.cidrs.includes(cidrOf(plan.address)))
      out.batch.push(`addr replace ${cidrOf(plan.address)} dev ${dev}`);
    for (const r of plan.underlayRoutes) {
      if (hasUnderlayRoute(state.routes, r, dev)) continue;
      const args = underlayRouteArgs(r, dev).join(" ");
      if (state.underlay.up) out.batch.push(`route replace ${args}`);
      else out.waiting.push(args);
    }
  }
  for (const w of plan.workloads) {
    if (!state.links.has(w.dev)) continue;
    const have = state.routes.some(
      (k) => hostDst(k.dst) === w.dst && k.dev === w.dev && !k.gateway && (k.type ?? "unicast") === "unicast",
    );
    if (!have) out.batch.push(`route replace ${w.dst} dev ${w.dev} scope link`);
    if (!w.mac) continue;
    const ip = w.dst.split("/")[0]!;
    const neigh = state.neighbours.some(
      (n) => n.dst === ip && n.dev === w.dev && n.lladdr === w.mac && n.state?.includes("PERMANENT"),
    );
    if (!neigh) out.batch.push(`neigh replace ${ip} lladdr ${w.mac} dev ${w.dev} nud permanent`);
  }
  return out;
}
