// install-cni, pure part: what calico-node's install-cni init container puts on the node. From its
// environment (the manifest's cni_network_config, veth_mtu, etcd endpoints, the node name) it renders the
// CNI network config with every __PLACEHOLDER__ filled in, as Calico's install-cni does. The copying and
// writing are in install-main.ts.

import { CNI_BIN_DIR, CNI_CONF_DIR } from "../../kubernetes/containerd-config.ts";

/** Where the host's CNI folders are mounted in the init container (the manifest's hostPath volumes). */
export const HOST_CNI_BIN = `/host${CNI_BIN_DIR}`;
export const HOST_CNI_NET = `/host${CNI_CONF_DIR}`;
export const KUBECONFIG_NAME = "calico-kubeconfig";
/** Where etcd's TLS files are copied on the host, and their names there. */
export const ETCD_TLS_DIR = "calico-tls";
export const ETCD_TLS_FILES = {
  ETCD_CA_CERT_FILE: "etcd-ca",
  ETCD_CERT_FILE: "etcd-cert",
  ETCD_KEY_FILE: "etcd-key",
} as const;
export type EtcdTlsVar = keyof typeof ETCD_TLS_FILES;

const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
export const SERVICE_ACCOUNT_TOKEN = `${SERVICE_ACCOUNT_DIR}/token`;

export interface InstallSettings {
  /** The CNI network config template (CNI_NETWORK_CONFIG), placeholders and all. */
  template: string;
  /** File name under /etc/cni/net.d (CNI_CONF_NAME). */
  confName: string;
  mtu: number;
  nodeName: string;
  etcdEndpoints: string;
  etcdDiscoverySrv: string;
  /** etcd TLS files as mounted in the container (/calico-secrets/…), by variable; empty: plain http. */
  etcdTls: Partial<Record<EtcdTlsVar, string>>;
  logLevel: string;
  datastoreType: string;
  kubernetesServiceHost: string;
  kubernetesServicePort: string;
  /** After installing: sleep until stopped (a sidecar), or exit 0 (an init container). */
  sleep: boolean;
}

/** A problem with install-cni's environment: every one found, each naming the variable, value and fix. */
export class InstallCniError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `install-cni: ${problems.length} problem${problems.length === 1 ? "" : "s"} with its environment; nothing was installed:\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
  }
}

const CONF_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,250}\.conflist$/;
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LOG_LEVELS = ["debug", "info", "warning", "error", "fatal", "panic"];
const CONTAINER_PATH = /^\/[A-Za-z0-9._/-]+$/;

/**
 * Settings from the init container's environment. `hostname` stands in for KUBERNETES_NODE_NAME when it
 * is unset, as the node's hostname is the node name kubeadm registers.
 */
export function installSettingsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  hostname: string,
): InstallSettings {
  const problems: string[] = [];
  const get = (k: string, dflt = "") => env[k] ?? dflt;
  const template = get("CNI_NETWORK_CONFIG");
  if (template.trim() === "")
    problems.push(
      "CNI_NETWORK_CONFIG is empty: set it from the calico-config ConfigMap's cni_network_config (configMapKeyRef)",
    );
  const confName = get("CNI_CONF_NAME", "10-calico.conflist");
  if (!CONF_NAME.test(confName))
    problems.push(
      `CNI_CONF_NAME = "${confName}": not a file name ending in .conflist; fix: use 10-calico.conflist`,
    );
  const mtuText = get("CNI_MTU", "1500");
  const mtu = Number(mtuText);
  if (!/^\d+$/.test(mtuText) || mtu < 68 || mtu > 65535)
    problems.push(
      `CNI_MTU = "${mtuText}": must be a whole number from 68 to 65535; fix: set veth_mtu such as "1440"`,
    );
  const nodeName = get("KUBERNETES_NODE_NAME", hostname);
  if (!NODE_NAME.test(nodeName) || nodeName.length > 253)
    problems.push(
      `KUBERNETES_NODE_NAME = "${nodeName}": not a node name (lower-case DNS name); fix: set it from spec.nodeName (fieldRef)`,
    );
  const logLevel = get("LOG_LEVEL", "info").toLowerCase();
  if (!LOG_LEVELS.includes(logLevel))
    problems.push(`LOG_LEVEL = "${get("LOG_LEVEL")}": must be one of ${LOG_LEVELS.join(", ")}`);
  const etcdTls: Partial<Record<EtcdTlsVar, string>> = {};
  for (const k of Object.keys(ETCD_TLS_FILES) as EtcdTlsVar[]) {
    const v = get(k);
    if (v === "") continue;
    if (!CONTAINER_PATH.test(v) || v.split("/").includes(".."))
      problems.push(
        `${k} = "${v}": not an absolute path; fix: point it at the mounted secret, e.g. /calico-secrets/${ETCD_TLS_FILES[k]}`,
      );
    else etcdTls[k] = v;
  }
  const sleep = get("SLEEP", "true");
  if (sleep !== "true" && sleep !== "false") problems.push(`SLEEP = "${sleep}": must be "true" or "false"`);
  if (problems.length > 0) throw new InstallCniError(problems);
  return {
    template,
    confName,
    mtu,
    nodeName,
    etcdEndpoints: get("ETCD_ENDPOINTS"),
    etcdDiscoverySrv: get("ETCD_DISCOVERY_SRV"),
    etcdTls,
    logLevel,
    datastoreType: get("DATASTORE_TYPE", "kubernetes"),
    kubernetesServiceHost: get("KUBERNETES_SERVICE_HOST"),
    kubernetesServicePort: get("KUBERNETES_SERVICE_PORT"),
    sleep: sleep === "true",
  };
}

/** The host path an etcd TLS file is copied to, or "" when etcd is plain http. */
export function etcdTlsHostPath(s: InstallSettings, k: EtcdTlsVar): string {
  return s.etcdTls[k] ? `${CNI_CONF_DIR}/${ETCD_TLS_DIR}/${ETCD_TLS_FILES[k]}` : "";
}

/** Every placeholder install-cni fills in, with its value. */
export function placeholderValues(s: InstallSettings, serviceAccountToken: string): Record<string, string> {
  return {
    __KUBERNETES_NODE_NAME__: s.nodeName,
    __CNI_MTU__: String(s.mtu),
    __KUBECONFIG_FILEPATH__: `${CNI_CONF_DIR}/${KUBECONFIG_NAME}`,
    __ETCD_ENDPOINTS__: s.etcdEndpoints,
    __ETCD_DISCOVERY_SRV__: s.etcdDiscoverySrv,
    __ETCD_KEY_FILE__: etcdTlsHostPath(s, "ETCD_KEY_FILE"),
    __ETCD_CERT_FILE__: etcdTlsHostPath(s, "ETCD_CERT_FILE"),
    __ETCD_CA_CERT_FILE__: etcdTlsHostPath(s, "ETCD_CA_CERT_FILE"),
    __LOG_LEVEL__: s.logLevel,
    __DATASTORE_TYPE__: s.datastoreType,
    __KUBERNETES_SERVICE_HOST__: s.kubernetesServiceHost,
    __KUBERNETES_SERVICE_PORT__: s.kubernetesServicePort,
    __SERVICEACCOUNT_TOKEN__: serviceAccountToken,
  };
}

const PLACEHOLDER = /__[A-Z0-9_]+__/g;

/**
 * The CNI network config to write: every placeholder substituted, then checked: no placeholder left
 * unknown, and the result is a JSON conflist (a "plugins" list) — a broken file in /etc/cni/net.d would
 * only show later, as every pod failing to start.
 */
export function renderCniNetworkConfig(s: InstallSettings, serviceAccountToken = ""): string {
  const values = placeholderValues(s, serviceAccountToken);
  const unknown = [...new Set(s.template.match(PLACEHOLDER) ?? [])].filter((p) => !(p in values));
  if (unknown.length > 0)
    throw new InstallCniError([
      `CNI_NETWORK_CONFIG has placeholder${unknown.length === 1 ? "" : "s"} install-cni does not know: ${unknown.join(", ")}; ` +
        `known: ${Object.keys(values).join(", ")}`,
    ]);
  const text = s.template.replace(PLACEHOLDER, (p) => values[p]!);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new InstallCniError([
      `CNI_NETWORK_CONFIG with its placeholders filled in is not JSON: ${(e as Error).message}`,
    ]);
  }
  const plugins = (parsed as { plugins?: unknown } | null)?.plugins;
  if (!Array.isArray(plugins) || plugins.length === 0)
    throw new InstallCniError([
      `CNI_NETWORK_CONFIG is not a conflist: it needs a non-empty "plugins" list (${s.confName})`,
    ]);
  return text.endsWith("\n") ? text : `${text}\n`;
}

/** The kubeconfig the plugin may use to reach the API server (Calico's calico-kubeconfig). */
export function calicoKubeconfig(s: InstallSettings, token: string, caData: string): string {
  const server = s.kubernetesServiceHost.includes(":")
    ? `[${s.kubernetesServiceHost}]`
    : s.kubernetesServiceHost;
  return [
    "# Written by calico-lab's install-cni.",
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: local",
    "  cluster:",
    `    server: https://${server}:${s.kubernetesServicePort}`,
    `    certificate-authority-data: "${caData}"`,
    "users:",
    "- name: calico",
    "  user:",
    `    token: "${token}"`,
    "contexts:",
    "- name: calico-context",
    "  context:",
    "    cluster: local",
    "    user: calico",
    "current-context: calico-context",
    "",
  ].join("\n");
}

export const SERVICE_ACCOUNT_CA = `${SERVICE_ACCOUNT_DIR}/ca.crt`;
