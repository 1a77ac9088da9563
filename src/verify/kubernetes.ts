// What a kubeadm lab's cluster says, through kubectl (as `kubectl get nodes`, `kubectl -n kube-system get pods
// -l k8s-app=calico-node`, `kubectl get pods -o wide` would show it), and the checks made of it: every node
// Ready, calico-node N/N ready on our image, the stack's pods Running on their hosts with addresses in the pool.
// The expectations come from the plan (hosts, pods, pool), not from the cluster. Reading is an effect; the
// checks are pure.
import { IPv4CidrRange, IPv4 } from "ip-num";
import { tryKubectl, type KubectlReach } from "../kubernetes/cluster.ts";
import type { LabPlan } from "../lab/topology.ts";
import { check, type CheckResult } from "./checks/result.ts";

interface K8sList<T> {
  items: T[];
}
interface K8sNode {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string }[] };
}
interface K8sPod {
  metadata: { name: string; namespace: string };
  spec?: { nodeName?: string; containers?: { name: string; image: string }[] };
  status?: {
    phase?: string;
    podIP?: string;
    containerStatuses?: { name: string; ready: boolean; restartCount: number; image: string }[];
  };
}

/** The cluster as read once for the checks (or why it could not be read). */
export type ClusterRead =
  { ok: true; nodes: K8sNode[]; calicoNodes: K8sPod[]; pods: K8sPod[] } | { ok: false; reason: string };

async function list<T>(k: KubectlReach, args: string[]): Promise<K8sList<T>> {
  const r = await tryKubectl(k, [...args, "-o", "json"], 60_000);
  if (r.exitCode !== 0) throw new Error(r.stderr.trim() || `kubectl ${args.join(" ")} exited ${r.exitCode}`);
  return JSON.parse(r.stdout) as K8sList<T>;
}

export async function readCluster(k: KubectlReach): Promise<ClusterRead> {
  try {
    const [nodes, calicoNodes, pods] = await Promise.all([
      list<K8sNode>(k, ["get", "nodes"]),
      list<K8sPod>(k, ["-n", "kube-system", "get", "pods", "-l", "k8s-app=calico-node"]),
      list<K8sPod>(k, ["get", "pods", "--all-namespaces", "-l", "calico-lab/pod"]),
    ]);
    return { ok: true, nodes: nodes.items, calicoNodes: calicoNodes.items, pods: pods.items };
  } catch (e) {
    return { ok: false, reason: (e as Error).message.split("\n")[0]! };
  }
}

type Check = CheckResult<"kubernetes">;

const ready = (n: K8sNode) => n.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";

/** A calico-node pod's state as one line: "Running, ready, 0 restarts, image calico-lab/node:…". */
export function calicoNodeState(p: K8sPod | undefined): { ok: boolean; seen: string } {
  if (!p) return { ok: false, seen: "no calico-node pod on it" };
  const c = p.status?.containerStatuses?.find((s) => s.name === "calico-node");
  const image = p.spec?.containers?.find((s) => s.name === "calico-node")?.image ?? "?";
  const ok = p.status?.phase === "Running" && c?.ready === true;
  return {
    ok,
    seen:
      `${p.metadata.name} ${p.status?.phase ?? "Unknown"}, ${c?.ready ? "ready" : "not ready"}, ` +
      `${c?.restartCount ?? 0} restarts, image ${image}`,
  };
}

/** The cluster's checks. Pure. */
export function clusterChecks(plan: LabPlan, read: ClusterRead, nodeImage: string): Check[] {
  const hosts = plan.hosts.map((h) => h.name);
  if (!read.ok)
    return [
      check("kubernetes", "the API server answers kubectl", false, "nodes and pods listed", read.reason),
    ];
  const checks: Check[] = [];
  const readyNodes = read.nodes.filter(ready).map((n) => n.metadata.name);
  checks.push(
    check(
      "kubernetes",
      `kubectl get nodes: ${hosts.length} Ready`,
      hosts.every((h) => readyNodes.includes(h)),
      `Ready: ${hosts.join(", ")}`,
      `Ready: ${readyNodes.join(", ") || "none"}` +
        (read.nodes.length > readyNodes.length
          ? `; not Ready: ${read.nodes
              .filter((n) => !ready(n))
              .map((n) => n.metadata.name)
              .join(", ")}`
          : ""),
    ),
  );
  const onNode = (h: string) => read.calicoNodes.find((p) => p.spec?.nodeName === h);
  const readyCount = hosts.filter((h) => calicoNodeState(onNode(h)).ok).length;
  checks.push(
    check(
      "kubernetes",
      `calico-node DaemonSet ${hosts.length}/${hosts.length} ready`,
      readyCount === hosts.length,
      `${hosts.length}/${hosts.length} ready`,
      `${readyCount}/${hosts.length} ready`,
    ),
  );
  for (const h of hosts) {
    const p = onNode(h);
    const s = calicoNodeState(p);
    const image = p?.spec?.containers?.find((c) => c.name === "calico-node")?.image;
    checks.push(
      check(
        "kubernetes",
        `calico-node on ${h} runs our image`,
        s.ok && image === nodeImage,
        `Running, ready, image ${nodeImage}`,
        s.seen,
      ),
    );
  }
  const pool = IPv4CidrRange.fromCidr(plan.podCidr);
  for (const want of plan.pods) {
    const p = read.pods.find((x) => x.metadata.name === want.name && x.metadata.namespace === want.namespace);
    const ip = p?.status?.podIP;
    const inPool =
      ip !== undefined &&
      /^\d+\.\d+\.\d+\.\d+$/.test(ip) &&
      pool.contains(IPv4CidrRange.fromCidr(`${new IPv4(ip).toString()}/32`));
    checks.push(
      check(
        "kubernetes",
        `pod ${want.name} Running on ${want.host} with an address in ${plan.podCidr}`,
        p?.status?.phase === "Running" && p.spec?.nodeName === want.host && inPool,
        `Running on ${want.host}, IP in ${plan.podCidr}`,
        p
          ? `${p.status?.phase ?? "Unknown"} on ${p.spec?.nodeName ?? "no node"}, IP ${ip ?? "none"}`
          : "no such pod",
      ),
    );
  }
  return checks;
}

/** `kubectl get nodes -o wide` and `kubectl get pods -o wide` as text for the report (empty when unreachable). */
export async function kubectlExcerpts(k: KubectlReach): Promise<{ nodes: string; pods: string }> {
  const text = async (args: string[]) => {
    const r = await tryKubectl(k, args, 60_000);
    return r.exitCode === 0 ? r.stdout.trimEnd() : `(kubectl ${args.join(" ")}: ${r.stderr.trim()})`;
  };
  const [nodes, pods] = await Promise.all([
    text(["get", "nodes", "-o", "wide"]),
    text(["get", "pods", "--all-namespaces", "-o", "wide"]),
  ]);
  return { nodes, pods };
}
