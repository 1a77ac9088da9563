// Until the lab builds a kubeadm cluster's resources (issue 16's integration: kubeadm init/join on the VM
// hosts, the DaemonSet applied, pods through kubelet), a stack with calico-lab:kubernetes kubeadm is refused
// at preview with this text, never built as a plain VM lab that would look like one. Pure.
import { key } from "../config/model.ts";

export function kubeadmNotBuiltYet(stack: string): string {
  return (
    `stack "${stack}": ${key("kubernetes")} is kubeadm, and this version of the lab writes kubeadm's ` +
    "configuration (src/kubernetes/) but does not yet build the cluster's resources; nothing was created.\n" +
    `  fix: leave ${key("kubernetes")} unset (pulumi config rm ${key("kubernetes")}) for the lab's own pods, ` +
    "or use a version of the lab that builds it (docs/kubernetes.md)"
  );
}
