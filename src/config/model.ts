// The lab's configuration as the readers produce it, and the constants every stage shares (defined once).
import { LAB_DEFAULTS, LAB_NETWORK } from "../manifest/variant.ts";
import type { Mode } from "../modes.ts";

export const CONFIG_NAMESPACE = "calico-lab";
/** The full stack key of a lab key: `calico-lab:<k>`. */
export const key = (k: string): string => `${CONFIG_NAMESPACE}:${k}`;

/**
 * What a lab host is: a network namespace of this kernel (seconds, the default), or a VM with Debian's
 * kernel under QEMU (a kernel per host: IPIP where this one has none; minutes under TCG).
 */
export const HOST_BACKENDS = ["netns", "vm"] as const;
export type HostBackend = (typeof HOST_BACKENDS)[number];

/**
 * Whether the lab is a Kubernetes cluster: `none` (the default: pods are namespaces the lab makes, calling
 * the CNI plugin as a kubelet would) or `kubeadm` (VM hosts only: kubeadm init/join, calico-node as the
 * manifest's DaemonSet, pods scheduled by kubelet; docs/kubernetes.md).
 */
export const KUBERNETES_SETTINGS = ["none", "kubeadm"] as const;
export type KubernetesSetting = (typeof KUBERNETES_SETTINGS)[number];

/** Host names become namespace suffixes and switch port names (Linux interface names: 15 bytes). */
export const HOST_NAME = /^[a-z][a-z0-9-]{0,14}$/;
/** Stack names become namespace prefixes. */
export const STACK_NAME = /^[a-z][a-z0-9-]{0,23}$/;
export const POD_NAME = /^[a-z][a-z0-9-]{0,22}$/;
/** Namespace suffixes the lab uses itself (its switch, outside host and router): no host or pod takes them. */
export const RESERVED_NAMES = ["underlay", "outside", "router"] as const;

/** Calico's conventional route-reflector cluster id, as in seed 004. */
export const RR_CLUSTER_ID = "244.0.0.1";
/** The underlay MTUs the lab builds: IPv6's minimum link MTU to the usual jumbo frame. */
export const UNDERLAY_MTU_MIN = 1280;
export const UNDERLAY_MTU_MAX = 9000;

export const DEFAULTS = {
  mode: "ipip" as Mode,
  backend: "netns" as HostBackend,
  kubernetes: "none" as KubernetesSetting,
  underlayCidr: LAB_NETWORK.underlayCidr,
  /** The seeds' hosts are .165, .166, .167: host addresses start at this offset in the underlay. */
  hostOffset: 165,
  mtu: LAB_NETWORK.underlayMtu,
  podCidr: LAB_DEFAULTS.podCidr,
  serviceCidr: LAB_NETWORK.serviceCidr,
  hosts: [
    { name: "master" },
    { name: "worker-1", labels: { worker: "no-1" } },
    { name: "worker-2", labels: { worker: "no-2" } },
  ] as unknown[],
  /** The outside host's offset in the underlay (.200 on a /24). */
  outsideOffset: 200,
  /** The cluster's AS number and block size when calico-lab:asNumber / blockSize are unset. */
  asNumber: LAB_DEFAULTS.asNumber,
  blockSize: LAB_DEFAULTS.blockSize,
};

export interface HostConfig {
  name: string;
  /** Underlay address (no prefix length). */
  address: string;
  labels: Record<string, string>;
}

export interface PodConfig {
  name: string;
  /** The host it runs on (given, or the first host matching its nodeSelector). */
  host: string;
  /** Runs the echo server (seed 003) on TCP port 8080. */
  server: boolean;
}

export interface OutsideConfig {
  /** An "outside" host on the underlay with no route to the pool (natOutgoing target; seed 004's router). */
  address: string;
  /** When set, it runs BIRD and peers with the route reflectors (eBGP) to reach pod IPs through them. */
  asNumber?: number;
}

/** A routed underlay's second subnet: its hosts sit behind the router namespace (the seeds' "different network"). */
export interface RoutedSubnet {
  cidr: string;
  prefixLength: number;
}

export interface LabConfig {
  stack: string;
  mode: Mode;
  backend: HostBackend;
  kubernetes: KubernetesSetting;
  underlayCidr: string;
  underlayPrefixLength: number;
  /** Set: the underlay is two subnets joined by a router namespace; hosts are in whichever holds their address. */
  routed?: RoutedSubnet;
  mtu: number;
  podCidr: string;
  serviceCidr: string;
  hosts: HostConfig[];
  pods: PodConfig[];
  /** Hosts acting as BGP route reflectors (label route-reflector, cluster id 244.0.0.1); mesh off when any. */
  routeReflectors: string[];
  outside: OutsideConfig;
}

/** Raw stack config values, keyed without namespace (`mode`, `hosts`, …). */
export type Raw = Record<string, unknown>;
