// A Kubernetes node's runtime on a lab host: containerd and kubelet, as the host's daemons, in its lab
// namespace (so hostNetwork pods, calico-node among them, are on the host's underlay) but in the host's own
// mount namespace (`nsenter --net`: the pod namespaces and container roots they mount are seen by every
// command on the host), supervised from this machine like the lab's other daemons; the images imported.
// Effects: every command goes through the host's HostExec.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { REPO_ROOT } from "../build/bundles.ts";
import { run, tryRun } from "../effects/exec.ts";
import { hostOfNetns, nsenterIn, type HostExec } from "../effects/host-exec.ts";
import { startDaemon, stopDaemon } from "../effects/daemon.ts";
import { CNI_BIN_DIR, CNI_CONF_DIR, CONTAINERD_SOCKET, containerdConfig } from "./containerd-config.ts";
import { scaledMs } from "../lab/timeouts.ts";

/** Where scripts/setup puts Kubernetes' binaries (kubeadm, kubelet, kubectl, crictl, the control plane's). */
export const K8S_BIN_DIR = join(REPO_ROOT, ".tools", "k8s", "bin");
/** etcd 3.6 (scripts/setup --kubernetes): the cluster's external etcd, which holds Calico's data too. */
export const K8S_ETCD = join(K8S_BIN_DIR, "etcd");
/** kubeadm's systemd drop-in, for hosts without systemd. */
export const KUBELET_RUN = join(REPO_ROOT, "scripts", "lib", "kubelet-run");
/** containerd's root in the guest: a tmpfs of its own (overlayfs cannot stack on the guest's overlay). */
export const CONTAINERD_ROOT = "/var/lib/containerd";
/** The PATH Kubernetes' commands run with on a node: ours first, then the host's (runc, nsenter, ip). */
export const NODE_PATH = `${K8S_BIN_DIR}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

export interface NodeRuntimeSpec {
  /** The node's name (its lab host's). */
  name: string;
  /** The host's lab namespace (the node's network). */
  netns: string;
  /** This machine's folder for the node's daemon files (pid, log, supervisor state); the guest sees it too. */
  runDir: string;
  /** The pause image's ref (containerd's sandbox image). */
  sandboxImage: string;
  /** OCI archives to import (visible at the same path in the guest), each with its digest. */
  images: readonly NodeImage[];
}

/** An image a node imports: its OCI archive and the digest it had when the plan was made. */
export interface NodeImage {
  archive: string;
  digest: string;
}

/** The images of `news` a node that imported `olds` still lacks: new archives and rebuilt ones. */
export function imagesToImport(olds: readonly NodeImage[], news: readonly NodeImage[]): NodeImage[] {
  const had = new Set(olds.map((i) => `${i.archive}@${i.digest}`));
  return news.filter((i) => !had.has(`${i.archive}@${i.digest}`));
}

/** argv run on the node: in its lab namespace, the host's mounts, Kubernetes' PATH. */
export function onNode(
  netns: string,
  argv: readonly string[],
  host: HostExec = hostOfNetns(netns),
): string[] {
  return nsenterIn(host, netns, ["env", `PATH=${NODE_PATH}`, ...argv]);
}

/** The host's root namespace, Kubernetes' PATH (mounts, cgroups, files: what is not per network). */
function onHostRoot(netns: string, argv: readonly string[]): string[] {
  return hostOfNetns(netns).onHost(["env", `PATH=${NODE_PATH}`, ...argv]);
}

/** The controllers kubelet's pods need, delegated from the root cgroup (cgroup v2; the guest mounts it). */
const CGROUP_CONTROLLERS = ["cpuset", "cpu", "io", "memory", "hugetlb", "pids"];

/** The host ready for a container runtime: cgroup controllers, CNI folders, containerd's config file. */
async function prepareHost(s: NodeRuntimeSpec): Promise<string> {
  const available = (await run(onHostRoot(s.netns, ["cat", "/sys/fs/cgroup/cgroup.controllers"]))).split(
    /\s+/,
  );
  for (const c of CGROUP_CONTROLLERS.filter((c) => available.includes(c)))
    await run(
      onHostRoot(s.netns, ["sh", "-c", 'echo "+$1" > /sys/fs/cgroup/cgroup.subtree_control', "sh", c]),
    );
  // The static-pod folder too: kubelet watches it on every node and logs each second while it is missing.
  await run(
    onHostRoot(s.netns, [
      "mkdir",
      "-p",
      CNI_BIN_DIR,
      CNI_CONF_DIR,
      "/var/lib/kubelet",
      "/etc/kubernetes/manifests",
    ]),
  );
  // Kubernetes' pods need forwarding in the node's namespace (kubeadm's preflight checks it too).
  await run(onNode(s.netns, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]));
  await mkdir(s.runDir, { recursive: true });
  const config = join(s.runDir, "containerd.toml");
  await writeFile(
    config,
    containerdConfig({ root: CONTAINERD_ROOT, state: "/run/containerd", sandboxImage: s.sandboxImage }),
  );
  return config;
}

/**
 * crictl against the node's containerd. Each of its calls waits up to 60 s for containerd, not crictl's 2 s:
 * an emulated node's containerd, busy starting pods, once took longer than 2 s to answer the version check
 * crictl makes first (`validate CRI v1 runtime API … DeadlineExceeded`), and the echo pod's create failed.
 */
export const CRICTL = ["crictl", "--runtime-endpoint", `unix://${CONTAINERD_SOCKET}`, "--timeout", "60s"];

const CTR = ["ctr", "--address", CONTAINERD_SOCKET, "--namespace", "k8s.io"];

/** containerd started (supervised) and answering, its images imported. */
export async function startContainerRuntime(s: NodeRuntimeSpec): Promise<void> {
  const config = await prepareHost(s);
  const version = onNode(s.netns, [...CTR, "version"]);
  await startDaemon({
    name: "containerd",
    netns: s.netns,
    enter: "nsenter",
    argv: ["env", `PATH=${NODE_PATH}`, "containerd", "--config", config],
    runDir: s.runDir,
    supervised: true,
    stopGraceMs: 5000,
    ready: async () => (await tryRun(version, { timeoutMs: 20_000 })).exitCode === 0,
    deadlineMs: scaledMs(180_000),
  });
  await importImages(s, s.images);
}

/** Archives imported into the node's containerd (its k8s.io namespace, where kubelet looks). */
export async function importImages(
  s: Pick<NodeRuntimeSpec, "netns">,
  images: readonly NodeImage[],
): Promise<void> {
  for (const { archive } of images)
    await run(onNode(s.netns, [...CTR, "images", "import", "--no-unpack=false", archive]), {
      timeoutMs: scaledMs(600_000),
    });
}

/** kubelet under its supervisor: it starts once kubeadm has written its configuration (scripts/lib/kubelet-run). */
export async function startKubelet(s: Pick<NodeRuntimeSpec, "netns" | "runDir">): Promise<void> {
  await startDaemon({
    name: "kubelet",
    netns: s.netns,
    enter: "nsenter",
    argv: ["env", `PATH=${NODE_PATH}`, "sh", KUBELET_RUN, join(K8S_BIN_DIR, "kubelet")],
    runDir: s.runDir,
    supervised: true,
    stopGraceMs: 5000,
    ready: () => Promise.resolve(true),
  });
}

/** The node out of its cluster: `kubeadm reset` (its Kubernetes files go; containerd must still run). */
export async function resetNode(s: Pick<NodeRuntimeSpec, "netns">): Promise<void> {
  await tryRun(onNode(s.netns, ["kubeadm", "reset", "-f", "--cri-socket", `unix://${CONTAINERD_SOCKET}`]), {
    timeoutMs: scaledMs(120_000),
  });
}

/**
 * The node's runtime stopped: kubelet, then its pods, then containerd. Nothing there is fine.
 */
export async function stopNodeRuntime(s: Pick<NodeRuntimeSpec, "netns" | "runDir">): Promise<void> {
  await stopDaemon(s.runDir, "kubelet", 5000);
  // Pods first, while containerd still answers: their shims and containers would outlive it.
  await tryRun(onNode(s.netns, [...CRICTL, "rmp", "-a", "-f"]), {
    timeoutMs: scaledMs(120_000),
  });
  await stopDaemon(s.runDir, "containerd", 5000);
}
