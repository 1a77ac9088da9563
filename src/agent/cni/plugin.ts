// The calico CNI plugin's commands: ADD (IPAM + workload endpoint), DEL (idempotent), CHECK, VERSION.
// Runs in the host's network namespace, as kubelet runs plugins; refuses to run in the root namespace.
import { scaledMs } from "../../lab/timeouts.ts";
import { Datastore } from "../datastore/etcd.ts";
import { resourceKey, workloadEndpointName, newResource, type WorkloadEndpoint } from "../datastore/keys.ts";
import { Ipam } from "../ipam/allocator.ts";
import { poolsForNode } from "../startup/pool.ts";
import {
  buildResult,
  CNI_ERR,
  CniError,
  netnsNameFromPath,
  versionResult,
  type CniEnv,
  type CniResult,
  type NetConf,
} from "./args.ts";
import { podHandleId, vethName } from "./naming.ts";
import { checkWorkload, currentNetnsName, setupWorkload, teardownWorkload } from "./workload.ts";

export const DEFAULT_MTU = 1440; // Calico's default veth MTU with IPIP (1500 - 20 + safety margin)

interface Context {
  env: CniEnv;
  conf: NetConf;
  node: string;
  hostNetns: string;
  namespace: string;
  pod: string;
}

/**
 * The datastore for one call: the caller's (the agent's own connection, left open), or a connection of its
 * own, closed when the call ends.
 */
function openDatastore(conf: NetConf, shared?: Datastore): { ds: Datastore; close(): void } {
  if (shared) return { ds: shared, close: () => undefined };
  const ds = datastoreFor(conf);
  return { ds, close: () => ds.close() };
}

function datastoreFor(conf: NetConf): Datastore {
  const endpoints = conf.etcd_endpoints
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean);
  return new Datastore({
    endpoints,
    // A slow machine (TCG) scales it: an etcd that is only slow to answer must not fail the pod.
    retryDeadlineMs: scaledMs(20_000),
    ...(conf.etcd_ca_cert_file
      ? {
          tls: { caFile: conf.etcd_ca_cert_file, certFile: conf.etcd_cert_file, keyFile: conf.etcd_key_file },
        }
      : {}),
  });
}

async function context(
  env: CniEnv,
  conf: NetConf,
  processEnv: Record<string, string | undefined>,
): Promise<Context> {
  const node = conf.nodename ?? processEnv.NODENAME;
  if (!node)
    throw new CniError(
      CNI_ERR.invalidConfig,
      `no node name: set "nodename" in the network config or NODENAME`,
    );
  const hostNetns = await currentNetnsName();
  if (!hostNetns) {
    throw new CniError(
      CNI_ERR.invalidEnv,
      "this plugin must run inside a lab host's named network namespace (ip netns exec <host> ...)",
    );
  }
  const namespace = env.args.K8S_POD_NAMESPACE;
  const pod = env.args.K8S_POD_NAME;
  if (!namespace || !pod)
    throw new CniError(CNI_ERR.invalidEnv, "CNI_ARGS must carry K8S_POD_NAMESPACE and K8S_POD_NAME");
  return { env, conf, node, hostNetns, namespace, pod };
}

function wepKey(c: Context): string {
  return resourceKey("workloadendpoints", workloadEndpointName(c.node, c.pod, c.env.ifname), c.namespace);
}

export async function cmdAdd(
  env: CniEnv,
  conf: NetConf,
  processEnv: Record<string, string | undefined> = process.env,
  shared?: Datastore,
): Promise<CniResult> {
  const c = await context(env, conf, processEnv);
  const podNetns = netnsNameFromPath(env.netns);
  const { ds, close } = openDatastore(conf, shared);
  try {
    const ipam = new Ipam(ds);
    const handleId = podHandleId(env.containerId);
    let ips = await ds.withRetry("read handle", () => ipam.ipsByHandle(handleId)); // a repeated ADD keeps its address
    if (ips.length === 0) {
      const { refs } = await ds.withRetry("read pools", () => poolsForNode(ds, c.node));
      if (refs.length === 0)
        throw new CniError(CNI_ERR.ipamFailure, `no enabled IP pool selects node ${c.node}`);
      try {
        ips = await ipam.autoAssign({
          host: c.node,
          handleId,
          pools: refs,
          attrs: { namespace: c.namespace, node: c.node, pod: c.pod, timestamp: new Date().toISOString() },
        });
      } catch (e) {
        throw new CniError(CNI_ERR.ipamFailure, `IPAM: ${(e as Error).message}`);
      }
    }
    const ip = ips[0]!;
    const hostIf = vethName(c.namespace, c.pod);
    try {
      const { podMac } = await setupWorkload({
        hostNetns: c.hostNetns,
        podNetns,
        hostIf,
        podIf: env.ifname,
        ip,
        mtu: conf.mtu ?? DEFAULT_MTU,
      });
      const wep: WorkloadEndpoint = newResource(
        "WorkloadEndpoint",
        {
          name: workloadEndpointName(c.node, c.pod, env.ifname),
          namespace: c.namespace,
          creationTimestamp: new Date().toISOString(),
          labels: {
            "projectcalico.org/namespace": c.namespace,
            "projectcalico.org/orchestrator": "k8s",
            "projectcalico.org/serviceaccount": "default",
          },
        },
        {
          orchestrator: "k8s",
          node: c.node,
          pod: c.pod,
          endpoint: env.ifname,
          containerID: env.containerId,
          ipNetworks: ips.map((i) => `${i}/32`),
          profiles: [`kns.${c.namespace}`, "ksa.default.default"],
          interfaceName: hostIf,
          mac: podMac,
        },
      );
      await ds.withRetry("write workload endpoint", () =>
        ds.client.put(wepKey(c)).value(JSON.stringify(wep)).exec(),
      );
      return buildResult(conf.cniVersion, { hostIf, podIf: env.ifname, podMac, sandbox: env.netns, ips });
    } catch (e) {
      await teardownWorkload({ hostNetns: c.hostNetns, hostIf, podNetns, podIf: env.ifname }).catch(() => {});
      await ipam.releaseByHandle(handleId).catch(() => {});
      if (e instanceof CniError) throw e;
      throw new CniError(CNI_ERR.io, `setting up ${c.namespace}/${c.pod}: ${(e as Error).message}`);
    }
  } finally {
    close();
  }
}

/** DEL: release the handle, remove the veth pair and the endpoint. Whatever is already gone is fine. */
export async function cmdDel(
  env: CniEnv,
  conf: NetConf,
  processEnv: Record<string, string | undefined> = process.env,
  shared?: Datastore,
): Promise<void> {
  const c = await context(env, conf, processEnv);
  const { ds, close } = openDatastore(conf, shared);
  try {
    const key = wepKey(c);
    // The address, the interface pair and the endpoint are independent: removed at once.
    await Promise.all([
      new Ipam(ds).releaseByHandle(podHandleId(env.containerId)),
      teardownWorkload({
        hostNetns: c.hostNetns,
        hostIf: vethName(c.namespace, c.pod),
        ...(env.netns ? { podNetns: netnsNameFromPath(env.netns), podIf: env.ifname } : {}),
      }),
      ds.withRetry("delete workload endpoint", async () => {
        const cur = await ds.getJson<WorkloadEndpoint>(key);
        // Only the endpoint of this container (a newer sandbox of the same pod keeps its own).
        if (cur && cur.value.spec.containerID === env.containerId)
          await ds.cas([{ key, rev: cur.rev, delete: true }]);
      }),
    ]);
  } finally {
    close();
  }
}

export async function cmdCheck(
  env: CniEnv,
  conf: NetConf,
  processEnv: Record<string, string | undefined> = process.env,
  shared?: Datastore,
): Promise<void> {
  const c = await context(env, conf, processEnv);
  if (conf.cniVersion === "0.3.0" || conf.cniVersion === "0.3.1") {
    throw new CniError(
      CNI_ERR.incompatibleVersion,
      `CHECK needs cniVersion 0.4.0 or later, got ${conf.cniVersion}`,
    );
  }
  const { ds, close } = openDatastore(conf, shared);
  try {
    let ips = (conf.prevResult?.ips ?? []).map((i) => i.address.replace(/\/\d+$/, ""));
    if (ips.length === 0)
      ips = await ds.withRetry("read handle", () => new Ipam(ds).ipsByHandle(podHandleId(env.containerId)));
    const ip = ips[0];
    if (!ip) throw new CniError(CNI_ERR.checkFailed, `no address recorded for container ${env.containerId}`);
    const problems = await checkWorkload({
      hostNetns: c.hostNetns,
      podNetns: netnsNameFromPath(env.netns),
      hostIf: vethName(c.namespace, c.pod),
      podIf: env.ifname,
      ip,
      mtu: conf.mtu ?? DEFAULT_MTU,
    });
    const wep = await ds.withRetry("read workload endpoint", () => ds.getJson<WorkloadEndpoint>(wepKey(c)));
    if (!wep) problems.push("workload endpoint missing from the datastore");
    if (problems.length > 0) throw new CniError(CNI_ERR.checkFailed, `CHECK failed: ${problems.join("; ")}`);
  } finally {
    close();
  }
}

export { versionResult };
