// Where the lab's etcd runs: on the first host (the seeds' master), at its underlay address. The plan
// (src/lab/topology.ts) and the Calico variant's etcd_endpoints both ask here, so they cannot disagree.
import { LAB_DEFAULTS } from "../manifest/variant.ts";
import type { HostConfig, LabConfig } from "./model.ts";

export const ETCD_CLIENT_PORT = 2379;
/** The seeds' master (.165 of the default underlay): where the template's etcd_endpoints points. */
export const SEED_ETCD_ADDRESS = new URL(LAB_DEFAULTS.etcdEndpoints[0]!).hostname;

/** The host that runs etcd; a LabConfig always has one (the reader refuses an empty host list). */
export function etcdHostOf<H extends Pick<HostConfig, "address">>(config: {
  hosts: readonly H[];
}): H | undefined {
  return config.hosts[0];
}

/** etcd's client URL on a host. */
export function etcdEndpointOf(host: Pick<HostConfig, "address">): string {
  return `http://${host.address}:${ETCD_CLIENT_PORT}`;
}

/** The lab's etcd endpoint. */
export function labEtcdEndpoint(config: Pick<LabConfig, "hosts">): string {
  const host = etcdHostOf(config);
  if (!host) throw new Error("a lab config without hosts has no etcd (the config reader refuses it)");
  return etcdEndpointOf(host);
}
