// The kubeadm path's part of the lab graph (calico-lab:kubernetes kubeadm): on every host a Kubernetes node
// (containerd and kubelet in its namespace, its images imported, kubeadm init on the master, join on the
// workers), Calico applied with kubectl (our calico-node DaemonSet), and the stack's pods as Kubernetes pods.
// They stand where the lab's own agents and pods stand in the graph (graph.ts). Pure.
import { join } from "node:path";
import { kubectlReach } from "../kubernetes/cluster.ts";
import type { NodeImage } from "../kubernetes/node-runtime.ts";
import { KUBERNETES_VERSION } from "../kubernetes/version.ts";
import { outputRef, EXTERNAL, type LabNode } from "./graph.ts";
import type { HostPlan, LabPlan } from "./topology.ts";
import { ECHO_PORT } from "./topology.ts";

/** An image the nodes import: its ref and its OCI archive (at a path every VM host sees). */
export interface ImageUse {
  ref: string;
  archive: string;
  /** The archive's manifest digest: a rebuilt image (same archive path) is imported again. */
  digest: string;
}

/** The images a cluster's nodes import (src/images, built by scripts/setup --kubernetes). */
export interface ClusterImages {
  pause: ImageUse;
  controlPlane: ImageUse[];
  calicoNode: ImageUse;
  busybox: ImageUse;
  echo: ImageUse;
}

/** The cluster's service CIDR (kubeadm's default; nothing in the lab routes it). */
export const SERVICE_CIDR = "10.96.0.0/12";
/** Memory of a VM host that is a Kubernetes node: the control plane's and the images' tmpfs need room. */
export const KUBE_MASTER_MEMORY = "3072M";
export const KUBE_WORKER_MEMORY = "2048M";

export interface ClusterGraphInputs {
  plan: LabPlan;
  runDir: string;
  images: ClusterImages;
  /** Each host's machine node (its VM) and the outside host's port, which kubectl goes through. */
  machines: string[];
  outsidePort: string;
  /** What the Kubernetes nodes wait for besides their machine (the underlay, etcd, the pool). */
  ready: string[];
}

export const kubeNodeName = (host: string) => `${host}-kubernetes`;
export const kubeRuntimeName = (host: string) => `${host}-container-runtime`;
export const CALICO_APPLIED = "calico-applied";

function imagesFor(h: HostPlan, plan: LabPlan, i: ClusterImages, master: boolean): NodeImage[] {
  const pods = plan.pods.filter((p) => p.host === h.name);
  return [
    i.pause,
    ...(master ? i.controlPlane : []),
    i.calicoNode,
    ...(pods.some((p) => !p.server) ? [i.busybox] : []),
    ...(pods.some((p) => p.server) ? [i.echo] : []),
  ].map((u) => ({ archive: u.archive, digest: u.digest }));
}

export function clusterNodes(c: ClusterGraphInputs): { nodes: LabNode[]; calico: string; pods: string[] } {
  const { plan, runDir, images } = c;
  const [master, ...workers] = plan.hosts;
  if (!master) throw new Error("a cluster needs a master");
  const kubectl = kubectlReach(plan, runDir);
  const base = (h: HostPlan) => ({
    name: h.name,
    netns: h.netns,
    runDir: join(runDir, `k8s-${h.name}`),
    stackRunDir: runDir,
    kubectl,
  });
  // Every host's runtime at once (the workers' images import while the control plane starts).
  const nodes: LabNode[] = plan.hosts.map((h, i) => ({
    kind: "kubeRuntime",
    name: kubeRuntimeName(h.name),
    inputs: {
      name: h.name,
      netns: h.netns,
      runDir: join(runDir, `k8s-${h.name}`),
      sandboxImage: images.pause.ref,
      images: imagesFor(h, plan, images, i === 0),
    },
    dependsOn: [c.machines[i]!, EXTERNAL.runFolder, ...c.ready],
  }));
  nodes.push({
    kind: "kubeNode",
    name: kubeNodeName(master.name),
    inputs: {
      ...base(master),
      role: {
        kind: "control-plane",
        init: {
          nodeName: master.name,
          address: master.address,
          labels: master.labels,
          clusterName: plan.stack,
          kubernetesVersion: KUBERNETES_VERSION,
          podCidr: plan.podCidr,
          serviceCidr: SERVICE_CIDR,
          etcdEndpoints: [plan.etcd.endpoint],
        },
      },
    },
    dependsOn: [kubeRuntimeName(master.name), c.outsidePort],
  });
  workers.forEach((h) =>
    nodes.push({
      kind: "kubeNode",
      name: kubeNodeName(h.name),
      inputs: {
        ...base(h),
        role: {
          kind: "worker",
          join: {
            nodeName: h.name,
            address: h.address,
            labels: h.labels,
            apiServerEndpoint: `${master.address}:6443`,
          },
          bootstrapToken: outputRef(kubeNodeName(master.name), "bootstrapToken"),
          caCertHash: outputRef(kubeNodeName(master.name), "caCertHash"),
        },
      },
      dependsOn: [kubeRuntimeName(h.name)],
    }),
  );
  nodes.push({
    kind: "kubeCalico",
    name: CALICO_APPLIED,
    inputs: {
      manifest: outputRef(EXTERNAL.manifest, "content"),
      kubectl,
      runDir,
      nodes: plan.hosts.map((h) => h.name),
    },
    dependsOn: [...plan.hosts.map((h) => kubeNodeName(h.name)), EXTERNAL.manifest],
  });
  for (const p of plan.pods) {
    const h = plan.hosts.find((x) => x.name === p.host)!;
    nodes.push({
      kind: "kubePod",
      name: p.name,
      inputs: {
        name: p.name,
        namespace: p.namespace,
        host: p.host,
        hostNetns: h.netns,
        netns: p.netns,
        image: p.server ? images.echo.ref : images.busybox.ref,
        server: p.server,
        serverPort: ECHO_PORT,
        kubectl,
        runDir,
      },
      dependsOn: [CALICO_APPLIED],
    });
  }
  return { nodes, calico: CALICO_APPLIED, pods: plan.pods.map((p) => p.name) };
}
