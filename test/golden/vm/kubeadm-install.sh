#!/bin/bash
# kubeadm path, step 1 on every VM host: pinned packages (docs/vm.md), kernel settings, containerd.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends ca-certificates curl gpg
install -d -m 0755 /etc/apt/keyrings
curl -fsSL 'https://pkgs.k8s.io/core:/stable:/v1.31/deb/Release.key' | gpg --dearmor --yes -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg
echo 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.31/deb/ /' >/etc/apt/sources.list.d/kubernetes.list
apt-get update -q
apt-get install -y -q --no-install-recommends \
  'kubeadm=1.31.4-1.1' \
  'kubelet=1.31.4-1.1' \
  'kubectl=1.31.4-1.1' \
  'cri-tools=1.31.1-1.1' \
  'kubernetes-cni=1.5.1-1.1' \
  'containerd=1.6.20~ds1-1+deb12u3' \
  'runc=1.1.5+ds1-1+deb12u1' \
  'conntrack=1:1.4.7-1+b2' \
  'socat=1.7.4.4-2' \
  'ethtool=1:6.1-1' \
  'ebtables=2.0.11-5'
apt-mark hold kubeadm kubelet kubectl
modprobe overlay
modprobe br_netfilter
cat >/etc/sysctl.d/99-kubernetes.conf <<'SYSCTL'
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
net.ipv4.ip_forward = 1
SYSCTL
sysctl --system >/dev/null
swapoff -a
install -d /etc/containerd
containerd config default | sed 's/SystemdCgroup = true/SystemdCgroup = false/' >/etc/containerd/config.toml
if [ -d /run/systemd/system ]; then
  systemctl restart containerd
  systemctl enable kubelet
else
  # No systemd (a vm-run host: busybox is PID 1): run containerd in the background.
  nohup containerd >/var/log/containerd.log 2>&1 &
fi
for _ in $(seq 1 60); do [ -S /run/containerd/containerd.sock ] && break; sleep 1; done
[ -S /run/containerd/containerd.sock ] || { echo "containerd did not start" >&2; exit 1; }
