// What the kubeadm path installs on a Debian 12 (bookworm) VM host, pinned. Kubernetes comes from the
// community repository pkgs.k8s.io, v1.31 channel; the container runtime from Debian itself.
// docs/vm.md lists the same table; test/unit/vm/kubeadm/scripts.test.ts keeps the two in step.

export const K8S_MINOR = "v1.31";
export const K8S_REPO = `https://pkgs.k8s.io/core:/stable:/${K8S_MINOR}/deb/`;
export const K8S_KEY_URL = `${K8S_REPO}Release.key`;
export const K8S_KEYRING = "/etc/apt/keyrings/kubernetes-apt-keyring.gpg";
export const DEBIAN_MIRROR = "http://deb.debian.org/debian/";

/** The Kubernetes version kubeadm deploys (matches the kubeadm package below). */
export const KUBERNETES_VERSION = "v1.31.4";

export interface PinnedPackage {
  name: string;
  version: string;
  from: "pkgs.k8s.io v1.31" | "Debian bookworm";
}

export const PACKAGES: readonly PinnedPackage[] = [
  { name: "kubeadm", version: "1.31.4-1.1", from: "pkgs.k8s.io v1.31" },
  { name: "kubelet", version: "1.31.4-1.1", from: "pkgs.k8s.io v1.31" },
  { name: "kubectl", version: "1.31.4-1.1", from: "pkgs.k8s.io v1.31" },
  { name: "cri-tools", version: "1.31.1-1.1", from: "pkgs.k8s.io v1.31" },
  { name: "kubernetes-cni", version: "1.5.1-1.1", from: "pkgs.k8s.io v1.31" },
  { name: "containerd", version: "1.6.20~ds1-1+deb12u3", from: "Debian bookworm" },
  { name: "runc", version: "1.1.5+ds1-1+deb12u1", from: "Debian bookworm" },
  { name: "conntrack", version: "1:1.4.7-1+b2", from: "Debian bookworm" },
  { name: "socat", version: "1.7.4.4-2", from: "Debian bookworm" },
  { name: "ethtool", version: "1:6.1-1", from: "Debian bookworm" },
  { name: "ebtables", version: "2.0.11-5", from: "Debian bookworm" },
];

/** Kubernetes' own packages, held after install so an upgrade never moves them. */
export const HELD = ["kubeadm", "kubelet", "kubectl"];

/** The URLs preflight probes: both repositories the install script needs. */
export const REPOSITORY_URLS = [K8S_KEY_URL, `${DEBIAN_MIRROR}dists/bookworm/InRelease`];
