// Calico's host-side veth name: "cali" + the first 11 hex characters of sha1("<namespace>.<pod>").
import { createHash } from "node:crypto";

export const VETH_PREFIX = "cali";

export function vethName(namespace: string, pod: string, prefix = VETH_PREFIX): string {
  const hex = createHash("sha1").update(`${namespace}.${pod}`).digest("hex");
  return `${prefix}${hex.slice(0, 11)}`;
}

/** The IPAM handle of a pod's addresses, as Calico's CNI plugin names it. */
export function podHandleId(containerId: string, network = "k8s-pod-network"): string {
  return `${network}.${containerId}`;
}
