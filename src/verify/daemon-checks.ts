// The "daemons" checks: etcd, every calico-node and every BIRD alive and ready, and etcd answering, as
// `kubectl get pods -n kube-system` would show them. Each failure names the daemon, where it runs and why.
import { join } from "node:path";
import type { LabPlan } from "../lab/topology.ts";
import { hostBackends } from "../backends/index.ts";
import { check, type CheckResult } from "./checks/result.ts";
import {
  agentArgv,
  agentNotReady,
  birdAnswers,
  birdArgv,
  birdSocketOf,
  etcdArgv,
  probePid,
  probeProcess,
  processText,
  readAgentClaim,
  restartsText,
  supervisorRestarts,
  type ProcessState,
} from "./daemons.ts";
import type { DatastoreRead } from "./snapshot.ts";
import { kubernetesPath } from "../lab/topology.ts";
import { kubectlReach } from "../kubernetes/cluster.ts";
import { calicoNodeState, readCluster, type ClusterRead } from "./kubernetes.ts";

type Check = CheckResult<"daemons">;

/** "http://192.168.19.165:2379" → "192.168.19.165:2379". */
export const etcdAddress = (endpoint: string) => endpoint.replace(/^https?:\/\//, "");

/** The datastore read as a check. Pure. */
export function etcdAnswersCheck(endpoint: string, read: DatastoreRead): Check {
  const at = `etcd at ${etcdAddress(endpoint)}`;
  return check(
    "daemons",
    `${at} answers`,
    read.ok,
    "a status reply and the datastore's keys",
    read.ok
      ? `etcd ${read.version} answered: ${read.facts.nodes.length} nodes, ${read.facts.pools.length} pools, ` +
          `${read.facts.blocks.length} blocks, ${read.facts.endpoints.length} workload endpoints` +
          (read.unreadable.length > 0 ? `; unreadable values under ${read.unreadable.join(", ")}` : "")
      : `${at} is unreachable: ${read.reason}`,
  );
}

/**
 * Checks whose only failure is a live calico-node that is not ready yet (it is catching up, e.g. with an
 * etcd that just came back): worth asking again until the deadline. A dead process is never retried, so
 * that a daemon dying again and again cannot pass in the moment between two of its deaths.
 */
export function onlyCatchingUp(checks: readonly Check[]): boolean {
  const failed = checks.filter((c) => !c.ok);
  return failed.length > 0 && failed.every((c) => NOT_READY.has(c));
}
const NOT_READY = new WeakSet<Check>();

/** A daemon's process as a check. Pure. */
export function processCheck(what: string, p: ProcessState, restarts?: number, notReady?: string): Check {
  const ok = p.state === "running" && notReady === undefined;
  const seen =
    p.state === "running" && notReady !== undefined
      ? `${what} is running (pid ${p.pid}) but not ready: ${notReady}`
      : processText(what, p);
  const c = check(
    "daemons",
    `${what} is running and ready`,
    ok,
    "alive, not a zombie, our argv; ready",
    seen + restartsText(restarts),
  );
  if (p.state === "running" && notReady !== undefined) NOT_READY.add(c);
  return c;
}

/** BIRD as a check: its process (where this machine can see it) and its answer on the control socket. Pure. */
export function birdCheck(what: string, p: ProcessState | undefined, socket: string, silent?: string): Check {
  const dead = p && p.state !== "running" ? processText(what, p) : undefined;
  const ok = dead === undefined && silent === undefined;
  return check(
    "daemons",
    `${what} is running and answers`,
    ok,
    `"Daemon is up and running" on ${socket}`,
    dead ??
      (silent !== undefined
        ? `${what} does not answer on ${socket}: ${silent}`
        : `${what} answers on ${socket}`),
  );
}

export interface DaemonOptions {
  runDir: string;
  hostRunDir: (host: string) => string;
  /** Whether BIRD runs on the host (Calico's rule: not when every pool is VXLAN). */
  birdOn: (host: string) => boolean;
}

export async function verifyDaemons(
  plan: LabPlan,
  datastore: DatastoreRead,
  o: DaemonOptions,
): Promise<Check[]> {
  const checks: Check[] = [];
  const master = plan.etcd.host;
  checks.push(
    processCheck(
      `etcd on ${master}`,
      await probeProcess(join(o.runDir, "etcd.pid"), etcdArgv),
      await supervisorRestarts(join(o.runDir, "etcd.supervise.json")),
    ),
  );
  checks.push(etcdAnswersCheck(plan.etcd.endpoint, datastore));
  // A kubeadm lab's calico-node is a pod of its DaemonSet: kubelet runs it, kubectl says how it is.
  const cluster = await kubernetesPath<Promise<ClusterRead | undefined>>(plan, {
    none: async () => undefined,
    kubeadm: () => readCluster(kubectlReach(plan, o.runDir)),
  });
  for (const h of plan.hosts) {
    const dir = o.hostRunDir(h.name);
    const pidsHere = hostBackends[h.machine.kind].thisKernel;
    const claim = await readAgentClaim(dir);
    if (cluster) {
      checks.push(calicoNodePodCheck(h.name, cluster, agentNotReady(claim, undefined)));
      if (o.birdOn(h.name)) {
        const socket = birdSocketOf(dir, claim);
        checks.push(birdCheck(`BIRD on ${h.name}`, undefined, socket, await birdAnswers(h.netns, socket)));
      }
      continue;
    }
    const agent = await probeProcess(join(dir, "agent.pid"), agentArgv(dir));
    // The status names the daemon's own pid: it must be alive too (a supervisor may stand in agent.pid).
    // A VM host's status.json names the agent's pid inside the VM, which this machine cannot see: there the
    // local vm-exec that stands for it is the process, and its supervisor rewrites the status if it dies.
    const claimed =
      pidsHere && claim?.pid !== undefined && agent.state === "running" && claim.pid !== agent.pid
        ? await probePid(claim.pid, () => true)
        : undefined;
    checks.push(
      processCheck(
        `calico-node on ${h.name}`,
        agent,
        await supervisorRestarts(join(dir, "agent.supervise.json")),
        agent.state === "running" ? agentNotReady(claim, claimed) : undefined,
      ),
    );
    if (!o.birdOn(h.name)) continue;
    const socket = birdSocketOf(dir, claim);
    // A VM host's bird.pid names a pid inside the VM: only its socket is asked there.
    const bird = !pidsHere ? undefined : await probeProcess(join(dir, "bird.pid"), birdArgv);
    const silent = bird && bird.state !== "running" ? undefined : await birdAnswers(h.netns, socket);
    checks.push(birdCheck(`BIRD on ${h.name}`, bird, socket, silent));
  }
  return checks;
}

/** calico-node as its DaemonSet's pod on the host: Running and ready (kubectl), and ready by its status.json. Pure. */
export function calicoNodePodCheck(host: string, cluster: ClusterRead, notReady: string | undefined): Check {
  const what = `calico-node on ${host}`;
  const pod = cluster.ok
    ? calicoNodeState(cluster.calicoNodes.find((p) => p.spec?.nodeName === host))
    : undefined;
  const seen = !cluster.ok
    ? `kubectl could not list calico-node's pods: ${cluster.reason}`
    : !pod!.ok
      ? pod!.seen
      : notReady !== undefined
        ? `${pod!.seen}, but not ready: ${notReady}`
        : pod!.seen;
  const c = check(
    "daemons",
    `${what} is running and ready`,
    cluster.ok && pod!.ok && notReady === undefined,
    "its DaemonSet's pod Running and ready; status.json ready",
    seen,
  );
  if (cluster.ok && pod!.ok && notReady !== undefined) NOT_READY.add(c);
  return c;
}

/** What a refresh or a diff sees without a packet: the daemons that are not alive and ready. */
export async function deadDaemons(
  plan: LabPlan,
  datastore: DatastoreRead,
  o: DaemonOptions,
): Promise<string[]> {
  return (await verifyDaemons(plan, datastore, o)).filter((c) => !c.ok).map((c) => c.seen);
}
