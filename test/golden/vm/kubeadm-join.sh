#!/bin/bash
# kubeadm path, step 3 on each worker: join the control plane.
set -euo pipefail
if [ ! -d /run/systemd/system ]; then
  (
    while [ ! -f /var/lib/kubelet/config.yaml ] || [ ! -f /var/lib/kubelet/kubeadm-flags.env ]; do sleep 1; done
    . /var/lib/kubelet/kubeadm-flags.env
    exec kubelet --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf \
      --kubeconfig=/etc/kubernetes/kubelet.conf --config=/var/lib/kubelet/config.yaml $KUBELET_KUBEADM_ARGS
  ) >/var/log/kubelet.log 2>&1 &
fi
kubeadm join '192.168.19.165:6443' --token 'abcdef.0123456789abcdef' \
  --discovery-token-ca-cert-hash 'sha256:0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f' \
  --node-name 'worker-1' --cri-socket unix:///run/containerd/containerd.sock
