// The rendered manifest's settings (src/manifest parse()) → the agent's startup settings.
import type { AgentSettings as ManifestSettings } from "../../manifest/index.ts";
import type { AgentSettings } from "./node.ts";

export interface NodeIdentity {
  /** NODENAME */
  nodeName: string;
  /** The host's namespace. */
  netns: string;
  labels?: Record<string, string>;
  /** Overrides the manifest's etcd endpoints (e.g. when the lab picks the master's address). */
  etcdEndpoints?: string[];
  routeReflectorClusterID?: string;
}

export function settingsFromManifest(m: ManifestSettings, id: NodeIdentity): AgentSettings {
  if (m.datastore.type !== "etcdv3") {
    throw new Error(`the agent needs the etcdv3 datastore (manifest says ${m.datastore.type})`);
  }
  const tls = m.datastore.tls;
  const endpoints = id.etcdEndpoints ?? m.datastore.endpoints;
  const s: AgentSettings = {
    nodeName: id.nodeName,
    netns: id.netns,
    etcd: {
      endpoints,
      ...(tls && tls.caCertFile
        ? {
            tls: {
              caFile: tls.caCertFile,
              ...(tls.certFile ? { certFile: tls.certFile } : {}),
              ...(tls.keyFile ? { keyFile: tls.keyFile } : {}),
            },
          }
        : {}),
    },
    autodetection: m.node.autodetection,
    asNumber: m.node.asNumber,
    labels: id.labels ?? {},
    pool: {
      cidr: m.pool.cidr,
      blockSize: m.pool.blockSize,
      ipipMode: m.pool.ipipMode,
      vxlanMode: m.pool.vxlanMode,
      natOutgoing: m.pool.natOutgoing,
    },
  };
  if (m.node.ip !== "autodetect" && m.node.ip !== "none" && m.node.ip !== "") {
    s.ipv4Address = m.node.ip.includes("/") ? m.node.ip : `${m.node.ip}/32`;
  }
  if (id.routeReflectorClusterID) s.routeReflectorClusterID = id.routeReflectorClusterID;
  return s;
}
