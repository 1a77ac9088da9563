// containerd's configuration on a Kubernetes node of the lab (containerd 1.6, config version 2). Pure.
// Nothing is ever pulled: the sandbox image is our locally built pause, every image is imported
// (src/images), and kubelet's pods use imagePullPolicy Never. cgroupfs, not systemd: the guests have no
// systemd. The CNI folders are the standard ones our install-cni writes to, as upstream's does.

export interface ContainerdConfigInputs {
  /** containerd's root (images, snapshots): a tmpfs of its own in the guest. */
  root: string;
  /** Its state folder (sockets, shims): on the guest's /run. */
  state: string;
  /** The pause image kubelet's pods sandbox in (kubeadm's ref, built here). */
  sandboxImage: string;
  cniBinDir?: string;
  cniConfDir?: string;
}

export const CONTAINERD_SOCKET = "/run/containerd/containerd.sock";
/**
 * The CNI folders containerd reads: Kubernetes' defaults, and the lab's one definition of them (install-cni
 * writes there, the calico-node image keeps its plugins at the same path). Here, not under src/agent, so
 * that the verification, which reads them, stays independent of the agent.
 */
export const CNI_BIN_DIR = "/opt/cni/bin";
export const CNI_CONF_DIR = "/etc/cni/net.d";

/** Plugins a lab node never uses: each is a start-up cost under emulation and a probe that can only fail. */
const DISABLED = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp",
];

const PATH = /^\/[A-Za-z0-9._/-]*$/;
const IMAGE_REF =
  /^[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z0-9-]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

function toml(value: string): string {
  return JSON.stringify(value);
}

export function containerdConfig(i: ContainerdConfigInputs): string {
  for (const [k, v] of Object.entries({
    root: i.root,
    state: i.state,
    cniBinDir: i.cniBinDir ?? CNI_BIN_DIR,
    cniConfDir: i.cniConfDir ?? CNI_CONF_DIR,
  }))
    if (!PATH.test(v)) throw new Error(`containerd ${k} "${v}" is not an absolute path of plain characters`);
  if (!IMAGE_REF.test(i.sandboxImage))
    throw new Error(`containerd sandbox image "${i.sandboxImage}" is not an image reference with a tag`);
  const cri = `plugins."io.containerd.grpc.v1.cri"`;
  return `# Written by calico-lab (src/kubernetes/containerd-config.ts).
version = 2
root = ${toml(i.root)}
state = ${toml(i.state)}
disabled_plugins = [${DISABLED.map(toml).join(", ")}]

[grpc]
  address = ${toml(CONTAINERD_SOCKET)}

[${cri}]
  sandbox_image = ${toml(i.sandboxImage)}
  enable_selinux = false
  restrict_oom_score_adj = false

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"
  discard_unpacked_layers = false

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false

[${cri}.cni]
  bin_dir = ${toml(i.cniBinDir ?? CNI_BIN_DIR)}
  conf_dir = ${toml(i.cniConfDir ?? CNI_CONF_DIR)}
  max_conf_num = 1
`;
}
