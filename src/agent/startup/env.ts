// calico-node's environment variables → AgentSettings (pure). The lab can build AgentSettings from the
// rendered manifest instead; this is what the `calico-node` entry point uses.
import type { EncapMode } from "../datastore/keys.ts";
import { parseAutodetectionMethod } from "./autodetect.ts";
import type { AgentSettings } from "./node.ts";

const ENCAP: readonly EncapMode[] = ["Always", "CrossSubnet", "Never"];

function encap(name: string, v: string | undefined, dflt: EncapMode): EncapMode {
  if (v === undefined || v === "") return dflt;
  const m = ENCAP.find((e) => e.toLowerCase() === v.toLowerCase());
  if (!m) throw new Error(`${name} must be Always, CrossSubnet or Never, got "${v}"`);
  return m;
}

/** "k=v,k2=v2" → labels. */
export function parseLabels(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z0-9][A-Za-z0-9._/-]*)=([A-Za-z0-9._-]*)$/.exec(part);
    if (!m) throw new Error(`invalid label "${part}" (want key=value)`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

export function settingsFromEnv(env: Record<string, string | undefined>, netns: string): AgentSettings {
  const need = (k: string) => {
    const v = env[k];
    if (!v) throw new Error(`${k} is required`);
    return v;
  };
  const ip = env.IP;
  const s: AgentSettings = {
    nodeName: need("NODENAME"),
    netns,
    etcd: {
      endpoints: need("ETCD_ENDPOINTS")
        .split(",")
        .map((e) => e.trim())
        .filter(Boolean),
      ...(env.ETCD_CA_CERT_FILE
        ? { tls: { caFile: env.ETCD_CA_CERT_FILE, certFile: env.ETCD_CERT_FILE, keyFile: env.ETCD_KEY_FILE } }
        : {}),
    },
    autodetection: parseAutodetectionMethod(env.IP_AUTODETECTION_METHOD),
    labels: parseLabels(env.NODE_LABELS),
    pool: {
      cidr: env.CALICO_IPV4POOL_CIDR || "192.168.0.0/16",
      blockSize: env.CALICO_IPV4POOL_BLOCK_SIZE ? Number(env.CALICO_IPV4POOL_BLOCK_SIZE) : 26,
      ipipMode: encap("CALICO_IPV4POOL_IPIP", env.CALICO_IPV4POOL_IPIP, "Always"),
      vxlanMode: encap("CALICO_IPV4POOL_VXLAN", env.CALICO_IPV4POOL_VXLAN, "Never"),
      natOutgoing: (env.CALICO_IPV4POOL_NAT_OUTGOING ?? "true").toLowerCase() !== "false",
      nodeSelector: env.CALICO_IPV4POOL_NODE_SELECTOR || "all()",
    },
  };
  if (ip && ip !== "autodetect") {
    if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(ip))
      throw new Error(`IP must be "autodetect" or a.b.c.d/len, got "${ip}"`);
    s.ipv4Address = ip;
  }
  if (env.AS) {
    const as = Number(env.AS);
    if (!Number.isInteger(as) || as < 1 || as > 4294967295)
      throw new Error(`AS must be 1..4294967295, got "${env.AS}"`);
    s.asNumber = as;
  }
  if (env.CALICO_ROUTE_REFLECTOR_CLUSTER_ID)
    s.routeReflectorClusterID = env.CALICO_ROUTE_REFLECTOR_CLUSTER_ID;
  return s;
}
