// Which labels kubelet may set on its own node (`--node-labels` at registration). The NodeRestriction
// admission plugin, on in every kubeadm cluster, refuses a kubelet's labels under kubernetes.io and k8s.io
// except in the namespaces kubelet owns (kubelet.kubernetes.io, node.kubernetes.io); kubelet itself refuses
// to start with such a label. Pure.

const RESTRICTED_DOMAIN = /(^|\.)(kubernetes\.io|k8s\.io)$/;
const KUBELET_OWN_DOMAIN = /(^|\.)(kubelet|node)\.kubernetes\.io$/;

/** Whether kubelet may set this (syntactically valid) label key on its own node. */
export function kubeletMaySetLabel(key: string): boolean {
  const slash = key.indexOf("/");
  if (slash < 0) return true;
  const prefix = key.slice(0, slash);
  return !RESTRICTED_DOMAIN.test(prefix) || KUBELET_OWN_DOMAIN.test(prefix);
}

export const KUBELET_LABEL_REFUSED =
  "kubelet may not set labels under kubernetes.io or k8s.io on its own node (NodeRestriction admission)";
