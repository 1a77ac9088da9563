// Calico's etcdv3 key layout and the JSON shapes stored under it. Pure: no I/O here.
// Mirrors libcalico-go's backend/model keys (resources under /calico/resources/v3, IPAM under /calico/ipam/v2).

export const RESOURCE_PREFIX = "/calico/resources/v3/projectcalico.org";
export const BLOCK_PREFIX = "/calico/ipam/v2/assignment/ipv4/block/";
export const HOST_AFFINITY_PREFIX = "/calico/ipam/v2/host/";
export const HANDLE_PREFIX = "/calico/ipam/v2/handle/";

export type ResourcePlural =
  "nodes" | "ippools" | "bgpconfigurations" | "bgppeers" | "felixconfigurations" | "workloadendpoints";

/** Names Calico accepts for resources: DNS-1123 subdomain-ish (lower-case, digits, '-', '.'). */
const RESOURCE_NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
/** Handle ids: Calico uses "k8s-pod-network.<containerID>" and "ipip-tunnel-addr-<node>". */
const HANDLE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

export function assertResourceName(name: string): string {
  if (!RESOURCE_NAME.test(name)) throw new Error(`invalid Calico resource name "${name}"`);
  return name;
}

export function assertHandleId(id: string): string {
  if (!HANDLE_ID.test(id)) throw new Error(`invalid IPAM handle id "${id}"`);
  return id;
}

/** `/calico/resources/v3/projectcalico.org/<plural>/<name>`; namespaced kinds put `<namespace>/` before the name. */
export function resourceKey(plural: ResourcePlural, name: string, namespace?: string): string {
  const ns = namespace === undefined ? "" : `${assertResourceName(namespace)}/`;
  return `${RESOURCE_PREFIX}/${plural}/${ns}${assertResourceName(name)}`;
}

export function resourcePrefix(plural: ResourcePlural): string {
  return `${RESOURCE_PREFIX}/${plural}/`;
}

const CIDR4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** "10.244.137.64/26" → "10.244.137.64-26", the form Calico uses inside keys. */
export function cidrToKeyPart(cidr: string): string {
  if (!CIDR4.test(cidr)) throw new Error(`invalid IPv4 CIDR "${cidr}"`);
  return cidr.replace("/", "-");
}

export function keyPartToCidr(part: string): string {
  const cidr = part.replace(/-(\d{1,2})$/, "/$1");
  if (!CIDR4.test(cidr)) throw new Error(`invalid block key part "${part}"`);
  return cidr;
}

export function blockKey(cidr: string): string {
  return `${BLOCK_PREFIX}${cidrToKeyPart(cidr)}`;
}

export function blockCidrFromKey(key: string): string {
  if (!key.startsWith(BLOCK_PREFIX)) throw new Error(`not a block key: ${key}`);
  return keyPartToCidr(key.slice(BLOCK_PREFIX.length));
}

export function hostAffinityPrefix(host: string): string {
  return `${HOST_AFFINITY_PREFIX}${assertResourceName(host)}/ipv4/block/`;
}

export function blockAffinityKey(host: string, cidr: string): string {
  return `${hostAffinityPrefix(host)}${cidrToKeyPart(cidr)}`;
}

/** Parses `/calico/ipam/v2/host/<node>/ipv4/block/<a.b.c.d-NN>` into its host and CIDR. */
export function parseBlockAffinityKey(key: string): { host: string; cidr: string } | null {
  const m = /^\/calico\/ipam\/v2\/host\/([^/]+)\/ipv4\/block\/([^/]+)$/.exec(key);
  if (!m || m[1] === undefined || m[2] === undefined) return null;
  return { host: m[1], cidr: keyPartToCidr(m[2]) };
}

export function handleKey(id: string): string {
  return `${HANDLE_PREFIX}${assertHandleId(id)}`;
}

// ---- stored JSON shapes (the parts this lab uses; field names as Calico writes them) ----

export interface AllocationAttribute {
  handle_id: string | null;
  secondary: Record<string, string> | null;
}

/** `/calico/ipam/v2/assignment/ipv4/block/<cidr>`: libcalico-go model.AllocationBlock. */
export interface AllocationBlock {
  cidr: string;
  affinity: string | null;
  strictAffinity: boolean;
  allocations: (number | null)[];
  unallocated: number[];
  attributes: AllocationAttribute[];
  deleted: boolean;
}

export type AffinityState = "pending" | "confirmed" | "pendingDeletion";

/** `/calico/ipam/v2/host/<node>/ipv4/block/<cidr>`. */
export interface BlockAffinity {
  state: AffinityState;
  deleted: boolean;
}

/** `/calico/ipam/v2/handle/<id>`: how many addresses the handle holds in each block. */
export interface IPAMHandle {
  handleID: string;
  block: Record<string, number>;
  deleted: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
}

export interface Resource<K extends string, S> {
  kind: K;
  apiVersion: "projectcalico.org/v3";
  metadata: ObjectMeta;
  spec: S;
}

export interface NodeSpec {
  bgp?: {
    ipv4Address?: string;
    ipv4IPIPTunnelAddr?: string;
    asNumber?: number;
    routeReflectorClusterID?: string;
  };
  ipv4VXLANTunnelAddr?: string;
  orchRefs?: { nodeName: string; orchestrator: string }[];
}
export type CalicoNode = Resource<"Node", NodeSpec>;

export type EncapMode = "Always" | "CrossSubnet" | "Never";

export interface IPPoolSpec {
  cidr: string;
  ipipMode: EncapMode;
  vxlanMode: EncapMode;
  natOutgoing: boolean;
  blockSize: number;
  nodeSelector: string;
  disabled?: boolean;
  allowedUses?: ("Workload" | "Tunnel")[];
}
export type IPPool = Resource<"IPPool", IPPoolSpec>;

export interface WorkloadEndpointSpec {
  orchestrator: "k8s";
  node: string;
  pod: string;
  endpoint: string;
  containerID: string;
  ipNetworks: string[];
  profiles: string[];
  interfaceName: string;
  mac?: string;
}
export type WorkloadEndpoint = Resource<"WorkloadEndpoint", WorkloadEndpointSpec>;

/** Calico's WorkloadEndpoint name: `<node>-k8s-<pod>-<endpoint>`, each part's '-' doubled. */
export function workloadEndpointName(node: string, pod: string, endpoint = "eth0"): string {
  const esc = (s: string) => s.replace(/-/g, "--");
  return `${esc(node)}-k8s-${esc(pod)}-${esc(endpoint)}`;
}

export function newResource<K extends string, S>(kind: K, metadata: ObjectMeta, spec: S): Resource<K, S> {
  return { kind, apiVersion: "projectcalico.org/v3", metadata, spec };
}
