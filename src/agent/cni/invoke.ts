// Calling the CNI plugin exactly as a kubelet would: inside the host's namespace, config on stdin,
// CNI_* in the environment, JSON back on stdout.
import { fileURLToPath } from "node:url";
import { entryArgv } from "../../build/bundles.ts";
import { ensureGoProgram } from "../../build/go-programs.ts";
import { assertNetnsName } from "../../effects/names.ts";
import { inNetns, tryRun } from "../../effects/exec.ts";
import type { CniResult } from "./args.ts";

/** The plugin executable, as kubelet would find it in /opt/cni/bin (the lab runs its bundle directly). */
export const CALICO_CNI_BIN = fileURLToPath(new URL("./calico", import.meta.url));

export interface CniConfigOptions {
  etcdEndpoints: string[];
  nodename: string;
  mtu?: number;
  cniVersion?: "0.3.1" | "1.0.0";
  tls?: { caFile: string; certFile?: string; keyFile?: string };
  /** The host's agent socket (its runFiles' cniSocket), which the lab's CNI executable hands calls to. */
  agentSocket?: string;
}

/** The network config a conflist would hand the calico plugin (Calico's field names). */
export function cniNetworkConfig(o: CniConfigOptions): Record<string, unknown> {
  return {
    cniVersion: o.cniVersion ?? "1.0.0",
    name: "k8s-pod-network",
    type: "calico",
    log_level: "info",
    datastore_type: "etcdv3",
    etcd_endpoints: o.etcdEndpoints.join(","),
    ...(o.tls
      ? { etcd_ca_cert_file: o.tls.caFile, etcd_cert_file: o.tls.certFile, etcd_key_file: o.tls.keyFile }
      : {}),
    nodename: o.nodename,
    mtu: o.mtu ?? 1440,
    ipam: { type: "calico-ipam" },
    ...(o.agentSocket ? { calico_lab_agent_socket: o.agentSocket } : {}),
  };
}

export interface PodRef {
  /** The host's network namespace (the plugin runs there). */
  hostNetns: string;
  /** The pod's network namespace (named; CNI_NETNS=/run/netns/<name>). */
  podNetns: string;
  namespace: string;
  pod: string;
  containerId: string;
  ifname?: string;
}

export class CniInvocationError extends Error {
  constructor(
    readonly command: string,
    readonly code: number,
    readonly msg: string,
    readonly raw: string,
  ) {
    super(`CNI ${command} failed (code ${code}): ${msg}`);
    this.name = "CniInvocationError";
  }
}

export async function invokeCni(
  command: "ADD" | "DEL" | "CHECK",
  pod: PodRef,
  config: Record<string, unknown>,
  /** How long the plugin may take (ms); under emulation (a TCG VM) node alone starts in tens of seconds. */
  timeoutMs = 60_000,
  /**
   * Which executable: "agent", the lab's CNI executable that hands the call to the host's running agent
   * (the config must carry its socket: cniNetworkConfig's agentSocket); "process", the plugin as a process
   * of its own that connects to etcd itself (what a kubeadm node's containerd runs).
   */
  plugin: "agent" | "process" = "process",
): Promise<CniResult | null> {
  const env = {
    CNI_COMMAND: command,
    CNI_CONTAINERID: pod.containerId,
    CNI_NETNS: `/run/netns/${assertNetnsName(pod.podNetns)}`,
    CNI_IFNAME: pod.ifname ?? "eth0",
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${pod.namespace};K8S_POD_NAME=${pod.pod};K8S_POD_INFRA_CONTAINER_ID=${pod.containerId}`,
    CNI_PATH: CALICO_CNI_BIN.replace(/\/[^/]+$/, ""),
  };
  if (plugin === "agent" && typeof config.calico_lab_agent_socket !== "string")
    throw new Error("invokeCni: the agent's CNI executable needs the config's calico_lab_agent_socket");
  const argv = plugin === "agent" ? [await ensureGoProgram("calico-cni")] : await entryArgv("cni");
  const r = await tryRun(inNetns(assertNetnsName(pod.hostNetns), argv), {
    input: JSON.stringify(config),
    env,
    timeoutMs,
  });
  const out = r.stdout.trim();
  if (r.exitCode !== 0) {
    let code = -1;
    let msg = r.stderr.trim() || out;
    try {
      const e = JSON.parse(out) as { code: number; msg: string };
      code = e.code;
      msg = e.msg;
    } catch {
      /* not JSON */
    }
    throw new CniInvocationError(command, code, msg, out);
  }
  return command === "ADD" ? (JSON.parse(out) as CniResult) : null;
}
