// The images the kubeadm cluster runs, as data: what each layer holds and what a container of the image
// runs. There is no registry: src/images/build.ts builds every image from this machine's files and our
// bundles, and each guest imports the archives under the names the manifests and kubeadm use.
import { createHash } from "node:crypto";
import { CNI_BIN_DIR } from "../kubernetes/containerd-config.ts";
import type { RunConfig } from "./oci.ts";
import { PROBE_PATH, PROBE_SCRIPT } from "../kubernetes/probe.ts";

/** Where a layer's files come from. Paths without a leading "/" are relative to the project root. */
export type LayerSource =
  /**
   * A file of this machine. Without `to`, at its own path, every symlink on the way kept as a symlink
   * (/lib → usr/lib, libz.so.1 → libz.so.1.2.13), so the loader finds libraries where ldd said; with
   * `to`, its content at that path. `libraries`: also every shared library ldd names, and the loader.
   */
  | { kind: "host"; from: string; to?: string; mode?: number; libraries?: boolean }
  /** A directory of this machine, recursively, at its own path (dlopen'd modules: ldd cannot see them). */
  | { kind: "hostTree"; from: string; libraries?: boolean }
  | { kind: "text"; path: string; content: string; mode?: number }
  | { kind: "symlink"; path: string; target: string }
  | { kind: "dir"; path: string; mode?: number }
  /** A static Go program (CGO_ENABLED=0) built from a folder of the project. */
  | { kind: "go"; dir: string; to: string }
  /** One of our bundles (src/images/bundles.ts: IMAGE_BUNDLES), built for running outside the project. */
  | { kind: "bundle"; name: ImageBundleName; to: string }
  /** A package folder's files the bundles read at run time (etcd3's .proto files). */
  | { kind: "packageFiles"; from: string; to: string; files: readonly string[] };

export interface LayerSpec {
  /** Names the layer in the image's history; equal specs give equal layers (stored once by containerd). */
  name: string;
  sources: readonly LayerSource[];
}

/**
 * An image's tag: fixed (what kubeadm and the manifests expect), or the lab's version plus a digest of the
 * image's layers, so a changed agent gets a new tag and kubelet never runs a stale image under an old name.
 */
export type TagRule = { fixed: string } | { version: string };

export interface ImageSpec {
  name: ImageName;
  /**
   * Fully qualified, as CRI normalizes the manifests' names (`calico-lab/node` is looked up as
   * docker.io/calico-lab/node, `busybox` as docker.io/library/busybox): ctr imports names as given.
   */
  repository: string;
  tag: TagRule;
  layers: readonly LayerSpec[];
  run: RunConfig;
}

export const IMAGE_NAMES = [
  "pause",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "busybox",
  "calico-node",
  "echo",
] as const;
export type ImageName = (typeof IMAGE_NAMES)[number];

export const IMAGE_BUNDLE_NAMES = [
  "agent",
  "calico-node",
  "cni",
  "calicoctl",
  "install-cni",
  "echo-server",
] as const;
export type ImageBundleName = (typeof IMAGE_BUNDLE_NAMES)[number];

/** What the catalog is made from: pinned versions and where things are on this machine. */
export interface CatalogInputs {
  /** The Kubernetes version kubeadm is stamped with, e.g. v1.34.4. */
  kubernetesVersion: string;
  /** The pause image kubeadm expects (`kubeadm config images list`), e.g. registry.k8s.io/pause:3.10.1. */
  pauseRef: string;
  /** package.json's version. */
  labVersion: string;
  /** The real path of this machine's node (`command -v node`, symlinks resolved). */
  nodePath: string;
  /** Where the Kubernetes binaries are (project-relative or absolute). */
  kubernetesBin: string;
  /** The echo server's port (src/lab/topology.ts ECHO_PORT). */
  echoPort: number;
}

export const PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Where our bundles live in an image: an app root with node_modules beside dist/bin, as in the project. */
export const APP_ROOT = "/opt/calico-lab";
/**
 * The CNI plugin's files sit in the calico-node image at the host's CNI_BIN_DIR, as install-cni copies
 * them; this is the plugin's own app root under it (its bundle and etcd3's .proto files).
 */
export const CNI_APP_ROOT = `${CNI_BIN_DIR}/calico-lab`;

const KUBERNETES_REF_VERSION = /^v\d+\.\d+\.\d+$/;
const IMAGE_REF =
  /^[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z0-9-]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Splits a full reference (registry/path:tag) into repository and tag; refuses anything else. */
export function parseRef(ref: string): { repository: string; tag: string } {
  if (!IMAGE_REF.test(ref)) throw new Error(`not a full image reference (registry/name:tag): "${ref}"`);
  const at = ref.lastIndexOf(":");
  return { repository: ref.slice(0, at), tag: ref.slice(at + 1) };
}

/**
 * A launcher for a bundle that needs no shell: node runs it as CommonJS (no extension, no package.json
 * beside it) and it imports the bundle, so `argv[2…]` are the caller's arguments.
 */
export function nodeLauncher(bundlePath: string): string {
  return `#!/usr/bin/node\n// calico-lab image launcher\nimport(${JSON.stringify(bundlePath)});\n`;
}

/** The CNI plugin's launcher: finds its bundle next to itself, so the same file works in /host/opt/cni/bin. */
export const CNI_LAUNCHER =
  `#!/usr/bin/node\n// calico-lab CNI plugin: runs calico-lab/dist/bin/cni.mjs beside this file with this machine's node\n` +
  `import(require("node:path").join(__dirname, "calico-lab", "dist", "bin", "cni.mjs"));\n`;

/** etcd3 reads its .proto files from its package folder at run time (see src/build/bundles.ts). */
const ETCD3_FILES = [
  "package.json",
  "proto/rpc.proto",
  "proto/kv.proto",
  "proto/auth.proto",
  "lib/",
] as const;

/** Applets of Debian's busybox-static linked in the busybox image (what the seeds' pods run). */
export const BUSYBOX_APPLETS = [
  "[", "ash", "awk", "basename", "cat", "chmod", "cp", "cut", "date", "dd", "df", "dirname", "du", "echo",
  "env", "false", "find", "free", "grep", "head", "hostname", "httpd", "id", "ifconfig", "ip", "ipneigh",
  "kill", "less", "ln", "ls", "mkdir", "mount", "mv", "nc", "netstat", "nslookup", "ping", "printf", "ps",
  "pwd", "readlink", "rm", "route", "sed", "seq", "sh", "sleep", "sort", "stat", "sysctl", "tail", "tar",
  "tee", "test", "timeout", "top", "touch", "tr", "traceroute", "true", "uname", "uniq", "vi", "wc", "wget",
  "which", "xargs",
] as const; // prettier-ignore

const etcFiles: LayerSource[] = [
  { kind: "text", path: "/etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n" },
  { kind: "text", path: "/etc/group", content: "root:x:0:\nnogroup:x:65534:\n" },
  { kind: "text", path: "/etc/nsswitch.conf", content: "passwd: files\ngroup: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n" },
  { kind: "dir", path: "/root", mode: 0o700 },
  { kind: "dir", path: "/tmp", mode: 0o1777 },
  { kind: "dir", path: "/run", mode: 0o755 },
]; // prettier-ignore

/** node with every library it links and minimal /etc files: the layer the node-based images share. */
export function nodeRuntimeLayer(nodePath: string): LayerSpec {
  return {
    name: "node-runtime",
    sources: [
      // Merged /usr as on Debian bookworm: ldd's /lib/x86_64-linux-gnu/… names resolve through these.
      ...(["bin", "sbin", "lib", "lib64"] as const).map((d): LayerSource => ({
        kind: "symlink",
        path: `/${d}`,
        target: `usr/${d}`,
      })),
      { kind: "host", from: nodePath, to: "/usr/bin/node", mode: 0o755, libraries: true },
      ...etcFiles,
    ],
  };
}

/** BIRD 2, iproute2, iptables (the nft backend Debian selects: the agent calls `iptables`) and sysctl. */
const dataplaneTools: LayerSource[] = [
  { kind: "host", from: "/usr/sbin/bird", libraries: true },
  { kind: "host", from: "/usr/sbin/birdc", libraries: true },
  { kind: "dir", path: "/etc/bird", mode: 0o755 },
  { kind: "dir", path: "/run/bird", mode: 0o755 },
  { kind: "host", from: "/usr/bin/ip", libraries: true },
  { kind: "host", from: "/etc/iproute2/rt_tables" },
  { kind: "host", from: "/etc/iproute2/rt_protos" },
  { kind: "host", from: "/etc/iproute2/rt_scopes" },
  { kind: "host", from: "/etc/iproute2/rt_realms" },
  { kind: "host", from: "/usr/sbin/xtables-nft-multi", libraries: true },
  ...(["iptables", "iptables-restore", "iptables-save", "ip6tables", "ip6tables-restore", "ip6tables-save"] as const).map(
    (n): LayerSource => ({ kind: "symlink", path: `/usr/sbin/${n}`, target: "xtables-nft-multi" }),
  ),
  { kind: "hostTree", from: "/usr/lib/x86_64-linux-gnu/xtables", libraries: true },
  { kind: "host", from: "/etc/protocols" },
  { kind: "host", from: "/usr/sbin/sysctl", libraries: true },
  // The agent's kernel preflight probes a throwaway network namespace (felix/preflight.ts).
  { kind: "host", from: "/usr/bin/unshare", libraries: true },
]; // prettier-ignore

const launchers: { bundle: ImageBundleName; command: string }[] = [
  { bundle: "agent", command: "calico-node" },
  { bundle: "calico-node", command: "calico-node-startup" },
  { bundle: "calicoctl", command: "calicoctl" },
  { bundle: "install-cni", command: "install-cni" },
];

/** Our agent, its CNI plugin (as install-cni copies it) and calicoctl. */
function calicoLayer(): LayerSpec {
  return {
    name: "calico-lab agent",
    sources: [
      ...launchers.flatMap(({ bundle, command }): LayerSource[] => [
        { kind: "bundle", name: bundle, to: `${APP_ROOT}/dist/bin/${bundle}.mjs` },
        { kind: "text", path: `/usr/local/bin/${command}`, content: nodeLauncher(`${APP_ROOT}/dist/bin/${bundle}.mjs`), mode: 0o755 },
      ]),
      { kind: "packageFiles", from: "node_modules/etcd3", to: `${APP_ROOT}/node_modules/etcd3`, files: ETCD3_FILES },
      // The command of the install-cni init container in Calico's v3.8–v3.11 manifests.
      { kind: "symlink", path: "/install-cni.sh", target: "usr/local/bin/install-cni" },
      { kind: "text", path: `${CNI_BIN_DIR}/calico`, content: CNI_LAUNCHER, mode: 0o755 },
      // The CNI config chains portmap after calico (Calico's manifests do): install-cni copies it too.
      { kind: "host", from: "/usr/lib/cni/portmap", to: `${CNI_BIN_DIR}/portmap`, mode: 0o755 },
      // containerd sets up every sandbox's lo with the loopback plugin, from the one CNI bin dir it reads
      // (/opt/cni/bin): upstream's install-cni ships it beside calico, so does ours. Without it every pod
      // sat in ContainerCreating ('failed to find plugin "loopback" in path [/opt/cni/bin]').
      { kind: "host", from: "/usr/lib/cni/loopback", to: `${CNI_BIN_DIR}/loopback`, mode: 0o755 },
      // A shell for the probes: kubelet runs them every few seconds, and a node process per probe would cost
      // seconds of CPU each under emulation (src/kubernetes/probe.ts).
      { kind: "host", from: "/usr/bin/busybox", to: "/usr/bin/busybox", mode: 0o755 },
      ...(["sh", "grep", "test", "cat"] as const).map((a): LayerSource => ({ kind: "symlink", path: `/usr/bin/${a}`, target: "busybox" })),
      { kind: "text", path: PROBE_PATH, content: PROBE_SCRIPT, mode: 0o755 },
      { kind: "bundle", name: "cni", to: `${CNI_APP_ROOT}/dist/bin/cni.mjs` },
      { kind: "packageFiles", from: "node_modules/etcd3", to: `${CNI_APP_ROOT}/node_modules/etcd3`, files: ETCD3_FILES },
    ],
  };
} // prettier-ignore

function kubeImage(name: ImageName & `kube-${string}`, i: CatalogInputs): ImageSpec {
  return {
    name,
    repository: `registry.k8s.io/${name}`,
    tag: { fixed: i.kubernetesVersion },
    layers: [
      {
        name,
        sources: [
          { kind: "host", from: `${i.kubernetesBin}/${name}`, to: `/usr/local/bin/${name}`, mode: 0o755 },
        ],
      },
    ],
    // kubeadm's static pods give the command (`kube-apiserver --…`): found through PATH.
    run: { env: { PATH: PATH_ENV } },
  };
}

/** Every image, in build order. */
export function catalog(i: CatalogInputs): ImageSpec[] {
  if (!KUBERNETES_REF_VERSION.test(i.kubernetesVersion))
    throw new Error(`kubernetes version "${i.kubernetesVersion}" is not vMAJOR.MINOR.PATCH`);
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(i.labVersion))
    throw new Error(`lab version "${i.labVersion}" is not MAJOR.MINOR.PATCH`);
  if (!Number.isInteger(i.echoPort) || i.echoPort < 1 || i.echoPort > 65535)
    throw new Error(`echo port ${i.echoPort} is not a TCP port`);
  const pause = parseRef(i.pauseRef);
  const runtime = nodeRuntimeLayer(i.nodePath);
  return [
    {
      name: "pause",
      repository: pause.repository,
      tag: { fixed: pause.tag },
      layers: [{ name: "pause", sources: [{ kind: "go", dir: "src/images/pause", to: "/pause" }] }],
      run: { entrypoint: ["/pause"], user: "65535:65535" },
    },
    kubeImage("kube-apiserver", i),
    kubeImage("kube-controller-manager", i),
    kubeImage("kube-scheduler", i),
    {
      name: "busybox",
      repository: "docker.io/library/busybox",
      tag: { fixed: "latest" },
      layers: [
        {
          name: "busybox",
          sources: [
            { kind: "host", from: "/usr/bin/busybox", to: "/bin/busybox", mode: 0o755 },
            ...BUSYBOX_APPLETS.map((a): LayerSource => ({ kind: "symlink", path: `/bin/${a}`, target: "busybox" })),
            ...etcFiles,
          ],
        },
      ],
      run: { env: { PATH: PATH_ENV }, cmd: ["sh"] },
    },
    {
      name: "calico-node",
      repository: "docker.io/calico-lab/node",
      tag: { version: i.labVersion },
      layers: [runtime, { name: "dataplane tools", sources: dataplaneTools }, calicoLayer()],
      run: { env: { PATH: PATH_ENV }, entrypoint: ["/usr/local/bin/calico-node"] },
    },
    {
      name: "echo",
      repository: "docker.io/calico-lab/echo",
      tag: { version: i.labVersion },
      layers: [
        runtime,
        {
          name: "echo server",
          sources: [
            { kind: "bundle", name: "echo-server", to: `${APP_ROOT}/dist/bin/echo-server.mjs` },
            { kind: "text", path: "/usr/local/bin/echo-server", content: nodeLauncher(`${APP_ROOT}/dist/bin/echo-server.mjs`), mode: 0o755 },
          ],
        },
      ],
      // argv: port, then the name it answers with (the pod's name).
      run: { env: { PATH: PATH_ENV }, entrypoint: ["/usr/local/bin/echo-server"], cmd: [String(i.echoPort), "echo"] },
    },
  ]; // prettier-ignore
}

/** The image's tag once its layers are known (their digests, in order). */
export function imageTag(rule: TagRule, layerDigests: readonly string[]): string {
  if ("fixed" in rule) return rule.fixed;
  const digest = createHash("sha256").update(layerDigests.join("\n")).digest("hex");
  return `${rule.version}-${digest.slice(0, 12)}`;
}

/** The full reference an image is imported under. */
export const imageRef = (spec: ImageSpec, tag: string) => `${spec.repository}:${tag}`;
