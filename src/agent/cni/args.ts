// The CNI contract, pure: CNI_* environment, network config from stdin, result and error JSON.
// Spec: https://www.cni.dev/docs/spec/ (versions 0.3.1 and 1.0.0 supported here).
import { assertIfName, assertNetnsName } from "../../effects/names.ts";

export const SUPPORTED_VERSIONS = ["0.3.0", "0.3.1", "0.4.0", "1.0.0"] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
export type CniCommand = "ADD" | "DEL" | "CHECK" | "VERSION";

/** Well-known CNI error codes (spec section "Error"). */
export const CNI_ERR = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnv: 4,
  io: 5,
  decode: 6,
  invalidConfig: 7,
  tryAgainLater: 11,
  /** Plugin-specific codes start at 100. */
  ipamFailure: 100,
  datastore: 101,
  checkFailed: 102,
  internal: 999,
} as const;

export class CniError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details = "",
  ) {
    super(message);
    this.name = "CniError";
  }
}

export interface CniEnv {
  command: CniCommand;
  containerId: string;
  /** Path of the pod's network namespace (may be empty on DEL). */
  netns: string;
  ifname: string;
  /** CNI_ARGS as key/value pairs (K8S_POD_NAMESPACE, K8S_POD_NAME, ...). */
  args: Record<string, string>;
}

export interface NetConf {
  cniVersion: CniVersion;
  name: string;
  type: string;
  etcd_endpoints: string;
  etcd_ca_cert_file?: string;
  etcd_cert_file?: string;
  etcd_key_file?: string;
  nodename?: string;
  mtu?: number;
  log_level?: string;
  ipam: { type: string };
  prevResult?: CniResult;
}

export interface CniResult {
  cniVersion: string;
  interfaces: { name: string; mac?: string; sandbox?: string }[];
  ips: { version?: "4"; address: string; interface?: number; gateway?: string }[];
  routes?: { dst: string; gw?: string }[];
  dns: Record<string, never>;
}

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const CNI_ARG_KEY = /^[A-Za-z0-9_]+$/;

/** "K8S_POD_NAMESPACE=default;K8S_POD_NAME=a;IgnoreUnknown=1" → record. */
export function parseCniArgs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(";")) {
    if (part.trim() === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) throw new CniError(CNI_ERR.invalidEnv, `CNI_ARGS: "${part}" is not KEY=VALUE`);
    const key = part.slice(0, eq).trim();
    if (!CNI_ARG_KEY.test(key)) throw new CniError(CNI_ERR.invalidEnv, `CNI_ARGS: invalid key "${key}"`);
    out[key] = part.slice(eq + 1).trim();
  }
  return out;
}

export function parseEnv(env: Record<string, string | undefined>): CniEnv {
  const command = env.CNI_COMMAND;
  if (command !== "ADD" && command !== "DEL" && command !== "CHECK" && command !== "VERSION") {
    throw new CniError(
      CNI_ERR.invalidEnv,
      `CNI_COMMAND must be ADD, DEL, CHECK or VERSION, got "${command ?? ""}"`,
    );
  }
  if (command === "VERSION") return { command, containerId: "", netns: "", ifname: "", args: {} };
  const need = (k: string) => {
    const v = env[k];
    if (v === undefined || v === "")
      throw new CniError(CNI_ERR.invalidEnv, `${k} is required for ${command}`);
    return v;
  };
  const containerId = need("CNI_CONTAINERID");
  if (!CONTAINER_ID.test(containerId))
    throw new CniError(CNI_ERR.invalidEnv, `invalid CNI_CONTAINERID "${containerId}"`);
  const ifname = need("CNI_IFNAME");
  try {
    assertIfName(ifname);
  } catch (e) {
    throw new CniError(CNI_ERR.invalidEnv, `invalid CNI_IFNAME: ${(e as Error).message}`);
  }
  const netns = command === "DEL" ? (env.CNI_NETNS ?? "") : need("CNI_NETNS");
  if (netns !== "") netnsNameFromPath(netns);
  return { command, containerId, netns, ifname, args: parseCniArgs(env.CNI_ARGS ?? "") };
}

/** The lab's pods are named namespaces: CNI_NETNS must be /run/netns/<name> or /var/run/netns/<name>. */
export function netnsNameFromPath(path: string): string {
  const m = /^(?:\/var)?\/run\/netns\/([^/]+)$/.exec(path);
  if (!m || m[1] === undefined) {
    throw new CniError(
      CNI_ERR.invalidEnv,
      `CNI_NETNS "${path}" is not a named network namespace (/run/netns/<name>)`,
    );
  }
  try {
    return assertNetnsName(m[1]);
  } catch (e) {
    throw new CniError(CNI_ERR.invalidEnv, (e as Error).message);
  }
}

export function parseNetConf(stdin: string): NetConf {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (e) {
    throw new CniError(CNI_ERR.decode, "network configuration is not valid JSON", (e as Error).message);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new CniError(CNI_ERR.decode, "network configuration must be a JSON object");
  }
  const c = raw as Record<string, unknown>;
  const str = (k: string, required = true): string | undefined => {
    const v = c[k];
    // An optional setting written empty is unset, as Calico reads it: install-cni fills
    // __ETCD_CA_CERT_FILE__ and its kin with "" when etcd has no TLS (every kubeadm lab's conflist).
    if ((v === undefined || v === "") && !required) return undefined;
    if (typeof v !== "string" || v === "")
      throw new CniError(CNI_ERR.invalidConfig, `network configuration: "${k}" must be a non-empty string`);
    return v;
  };
  const cniVersion = str("cniVersion") as string;
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(cniVersion)) {
    throw new CniError(
      CNI_ERR.incompatibleVersion,
      `cniVersion ${cniVersion} is not supported`,
      `supported: ${SUPPORTED_VERSIONS.join(", ")}`,
    );
  }
  const ipam = c.ipam as Record<string, unknown> | undefined;
  if (!ipam || typeof ipam.type !== "string") {
    throw new CniError(CNI_ERR.invalidConfig, `network configuration: "ipam.type" is required`);
  }
  if (ipam.type !== "calico-ipam") {
    throw new CniError(CNI_ERR.invalidConfig, `ipam.type "${ipam.type}" is not supported (use calico-ipam)`);
  }
  const mtu = c.mtu;
  if (mtu !== undefined && (typeof mtu !== "number" || !Number.isInteger(mtu) || mtu < 576 || mtu > 9000)) {
    throw new CniError(CNI_ERR.invalidConfig, `network configuration: "mtu" must be an integer 576..9000`);
  }
  const conf: NetConf = {
    cniVersion: cniVersion as CniVersion,
    name: str("name") as string,
    type: str("type") as string,
    etcd_endpoints: str("etcd_endpoints") as string,
    ipam: { type: ipam.type },
  };
  for (const k of [
    "etcd_ca_cert_file",
    "etcd_cert_file",
    "etcd_key_file",
    "nodename",
    "log_level",
  ] as const) {
    const v = str(k, false);
    if (v !== undefined) conf[k] = v;
  }
  if (typeof mtu === "number") conf.mtu = mtu;
  if (c.prevResult !== undefined) conf.prevResult = c.prevResult as CniResult;
  return conf;
}

/** The result of ADD, in the shape of the requested version (0.3.x/0.4.0 carry "version" on each IP). */
export function buildResult(
  cniVersion: string,
  r: { hostIf: string; podIf: string; podMac: string; sandbox: string; ips: string[] },
): CniResult {
  const legacy = cniVersion !== "1.0.0";
  return {
    cniVersion,
    interfaces: [{ name: r.hostIf }, { name: r.podIf, mac: r.podMac, sandbox: r.sandbox }],
    ips: r.ips.map((ip) => ({
      ...(legacy ? { version: "4" as const } : {}),
      address: `${ip}/32`,
      interface: 1,
    })),
    routes: [{ dst: "0.0.0.0/0", gw: "169.254.1.1" }],
    dns: {},
  };
}

export function versionResult(cniVersion = "1.0.0"): { cniVersion: string; supportedVersions: string[] } {
  return { cniVersion, supportedVersions: [...SUPPORTED_VERSIONS] };
}

/** The error JSON a plugin prints on stdout when it fails. */
export function errorJson(
  err: unknown,
  cniVersion = "1.0.0",
): { cniVersion: string; code: number; msg: string; details?: string } {
  if (err instanceof CniError) {
    return { cniVersion, code: err.code, msg: err.message, ...(err.details ? { details: err.details } : {}) };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return { cniVersion, code: CNI_ERR.internal, msg: e.message };
}
