#!/bin/bash
# kubeadm path, step 2 on the master: the control plane, then Calico.
set -euo pipefail
if [ ! -d /run/systemd/system ]; then
  (
    while [ ! -f /var/lib/kubelet/config.yaml ] || [ ! -f /var/lib/kubelet/kubeadm-flags.env ]; do sleep 1; done
    . /var/lib/kubelet/kubeadm-flags.env
    exec kubelet --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf \
      --kubeconfig=/etc/kubernetes/kubelet.conf --config=/var/lib/kubelet/config.yaml $KUBELET_KUBEADM_ARGS
  ) >/var/log/kubelet.log 2>&1 &
fi
kubeadm init --config '/etc/calico-lab/kubeadm.yaml'
export KUBECONFIG=/etc/kubernetes/admin.conf
kubectl apply -f '/work/main/.lab/calico.yaml'
kubectl -n kube-system rollout status daemonset/calico-node --timeout=600s
