// The Kubernetes the lab runs, pinned once. scripts/setup builds these versions from the Go module proxy
// (package.json's toolchain.kubernetes, which test/unit/kubernetes/version.test.ts keeps equal to this);
// kubeadm derives its control-plane image tags from the version it was stamped with, so the images built
// for the lab carry this tag too.

/** kubeadm, kubelet, kubectl and the control plane (k8s.io/kubernetes on the Go module proxy). */
export const KUBERNETES_VERSION = "v1.34.4";
/** crictl (sigs.k8s.io/cri-tools): the release line that goes with the Kubernetes minor. */
export const CRICTL_VERSION = "v1.34.0";
/** A Kubernetes release as kubeadm's kubernetesVersion takes it. */
export const KUBERNETES_VERSION_PATTERN = /^v1\.(0|[1-9][0-9]?)\.(0|[1-9][0-9]?)$/;

/** The sandbox image kubeadm v1.34 configures (its constants' PauseVersion): registry.k8s.io/pause:3.10.1. */
export const PAUSE_VERSION = "3.10.1";

/**
 * The images `kubeadm init` runs with the lab's configuration (external etcd; the CoreDNS and kube-proxy
 * addons skipped): what the lab builds and imports into containerd on the master. Workers run only pause.
 */
export function kubeadmImages(version: string = KUBERNETES_VERSION): string[] {
  return [
    ...["kube-apiserver", "kube-controller-manager", "kube-scheduler"].map(
      (c) => `registry.k8s.io/${c}:${version}`,
    ),
    `registry.k8s.io/pause:${PAUSE_VERSION}`,
  ];
}
