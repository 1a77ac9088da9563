// Stage "kubernetes": calico-lab:kubernetes, none (the default) or kubeadm, and what kubeadm asks of the
// rest of the stack. kubeadm runs on VM hosts only: kubelet writes kernel sysctls that are global to the
// kernel it runs on and needs a mount namespace of its own per host, so on namespace hosts it would change
// this machine's root namespace, which the lab leaves untouched. Every mode is allowed: nothing kubeadm
// does depends on how pod packets travel (docs/kubernetes.md).
import { kubeletMaySetLabel, KUBELET_LABEL_REFUSED } from "../kubernetes/node-labels.ts";
import { problem, type Problem } from "../problems.ts";
import {
  DEFAULTS,
  KUBERNETES_SETTINGS,
  key,
  type HostBackend,
  type HostConfig,
  type KubernetesSetting,
  type PodConfig,
  type Raw,
} from "./model.ts";

export interface KubernetesContext {
  backend: HostBackend;
  hosts: readonly HostConfig[];
  pods: readonly PodConfig[];
}

/** The setting; an unknown one is reported and read as the default, so later checks still run. */
export function parseKubernetes(raw: Raw, ctx: KubernetesContext, problems: Problem[]): KubernetesSetting {
  const value = raw.kubernetes ?? DEFAULTS.kubernetes;
  if (!(KUBERNETES_SETTINGS as readonly unknown[]).includes(value)) {
    problems.push(
      problem(
        key("kubernetes"),
        raw.kubernetes,
        "unknown Kubernetes setting",
        `set one of ${KUBERNETES_SETTINGS.join(", ")}: none (the lab's own pods, the default) or kubeadm (a kubeadm cluster on VM hosts)`,
      ),
    );
    return DEFAULTS.kubernetes;
  }
  const setting = value as KubernetesSetting;
  if (setting === "kubeadm") checkKubeadm(raw, ctx, problems);
  return setting;
}

function checkKubeadm(raw: Raw, ctx: KubernetesContext, problems: Problem[]): void {
  if (ctx.backend === "netns") {
    problems.push(
      problem(
        key("kubernetes"),
        raw.kubernetes,
        `kubeadm needs VM hosts, and ${key("backend")} is netns: kubelet writes kernel sysctls that are ` +
          "global to the machine it runs on and needs a private mount namespace per host, so on namespace " +
          "hosts it would change this machine's root namespace, which the lab leaves untouched",
        `pulumi config set ${key("backend")} vm (a QEMU VM per host; docs/kubernetes.md), or leave ${key("kubernetes")} unset for the lab's own pods`,
      ),
    );
  }
  // The control plane is the first host, the one that runs etcd (src/config/etcd.ts).
  const master = ctx.hosts[0];
  if (master) {
    for (const pod of ctx.pods) {
      if (pod.host !== master.name) continue;
      problems.push(
        problem(
          podField(raw, pod.name),
          pod.name,
          `${master.name} is the control plane, tainted node-role.kubernetes.io/control-plane:NoSchedule: ` +
            "kubelet would never run this pod there",
          "place it on a worker (host, or a nodeSelector matching a worker's labels)",
        ),
      );
    }
  }
  ctx.hosts.forEach((h) => {
    for (const [k, v] of Object.entries(h.labels)) {
      if (kubeletMaySetLabel(k)) continue;
      const labels = `${hostField(raw, h.name)}.labels`;
      problems.push(
        problem(
          /^[A-Za-z0-9_-]+$/.test(k) ? `${labels}.${k}` : `${labels}[${JSON.stringify(k)}]`,
          v,
          `${KUBELET_LABEL_REFUSED}; with kubeadm, kubelet sets the hosts' labels when it registers`,
          "use a key of your own, such as example.com/role",
        ),
      );
    }
  });
}

/** `calico-lab:pods[i]` of the pod as written (the defaults, never written, are named as the whole list). */
function podField(raw: Raw, name: string): string {
  const i = Array.isArray(raw.pods) ? raw.pods.findIndex((p) => (p as Raw | null)?.name === name) : -1;
  return i < 0 ? key("pods") : `${key("pods")}[${i}]`;
}

/** `calico-lab:hosts[i]` of the host as written (a name or an object with one). */
function hostField(raw: Raw, name: string): string {
  const i = Array.isArray(raw.hosts)
    ? raw.hosts.findIndex((h) => h === name || (h as Raw | null)?.name === name)
    : -1;
  return i < 0 ? key("hosts") : `${key("hosts")}[${i}]`;
}
