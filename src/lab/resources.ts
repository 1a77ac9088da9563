// The lab's custom resources (one dynamic provider each). Inputs are plain data from the plan; a
// resource's outputs are the properties its handler adds, declared here so that Pulumi knows them.
import * as pulumi from "@pulumi/pulumi";
import type { AgentInputs } from "./providers/agent-handler.ts";
import type { BridgeInputs } from "./providers/bridge-handler.ts";
import type { CalicoResourcesInputs } from "./providers/calico-resources-handler.ts";
import type { EtcdInputs, EtcdOutputs } from "./providers/etcd-handler.ts";
import type { FileInputs } from "./providers/file-handler.ts";
import type { NetnsInputs } from "./providers/netns-handler.ts";
import type { OutsideRouterInputs } from "./providers/outside-router-handler.ts";
import type { PodInputs, PodOutputs } from "./providers/pod-handler.ts";
import type { RunFolderInputs } from "./providers/run-folder-handler.ts";
import type { UnderlayPortInputs } from "./providers/underlay-port-handler.ts";
import type { VerificationInputs, VerificationOutputs } from "./providers/verification-handler.ts";
import type { VmHostInputs } from "./providers/vm-host-handler.ts";
import type { KubeRuntimeInputs } from "./providers/kube-runtime-handler.ts";
import type { KubeNodeInputs, KubeNodeOutputs } from "./providers/kube-node-handler.ts";
import type { KubeCalicoInputs } from "./providers/kube-calico-handler.ts";
import type { KubePodInputs, KubePodOutputs } from "./providers/kube-pod-handler.ts";
import { KIND_KEY, labProvider } from "./providers/dynamic.ts";

type In<T> = { [K in keyof T]: pulumi.Input<T[K]> };
type Out<T> = { readonly [K in keyof T]: pulumi.Output<T[K]> };

/**
 * A resource class of type `calico-lab:<type>` served by the handler registered as `kind`. `outputs`
 * names what its handler adds to the inputs; every input is an output too, as Pulumi keeps them.
 */
function labResource<I, O = object>(kind: string, type: string, outputs: readonly (keyof O & string)[] = []) {
  const unknown = Object.fromEntries(outputs.map((o) => [o, undefined]));
  class LabResource extends pulumi.dynamic.Resource {
    constructor(resourceName: string, args: In<I>, opts?: pulumi.CustomResourceOptions) {
      super(labProvider, resourceName, { ...args, ...unknown, [KIND_KEY]: kind }, opts, "calico-lab", type);
    }
  }
  return LabResource as unknown as new (
    resourceName: string,
    args: In<I>,
    opts?: pulumi.CustomResourceOptions,
  ) => pulumi.dynamic.Resource & Out<I> & Out<O>;
}

export const NetworkNamespace = labResource<NetnsInputs>("netns", "NetworkNamespace");
export type NetworkNamespace = InstanceType<typeof NetworkNamespace>;

export const Bridge = labResource<BridgeInputs>("bridge", "Bridge");
export type Bridge = InstanceType<typeof Bridge>;

/** Our calico-node daemon in a host, under its supervisor. */
export const Agent = labResource<AgentInputs>("agent", "Agent");
export type Agent = InstanceType<typeof Agent>;

export const Etcd = labResource<EtcdInputs, EtcdOutputs>("etcd", "Etcd", ["endpoint", "pid"]);
export type Etcd = InstanceType<typeof Etcd>;

export const CalicoResources = labResource<CalicoResourcesInputs>("calicoResources", "CalicoResources");
export type CalicoResources = InstanceType<typeof CalicoResources>;

export const OutsideRouter = labResource<OutsideRouterInputs>("outsideRouter", "OutsideRouter");
export type OutsideRouter = InstanceType<typeof OutsideRouter>;

/** A pod: a namespace wired by the CNI plugin as a kubelet would; `ip` is the address IPAM gave it. */
export const Pod = labResource<PodInputs, PodOutputs>("pod", "Pod", ["ip", "hostInterface"]);
export type Pod = InstanceType<typeof Pod>;

/** A Kubernetes node's runtime on a lab host: containerd and kubelet supervised, the images imported. */
export const KubeRuntime = labResource<KubeRuntimeInputs>("kubeRuntime", "ContainerRuntime");
export type KubeRuntime = InstanceType<typeof KubeRuntime>;

/** A lab host in the cluster: kubeadm init (master) or join. */
export const KubeNode = labResource<KubeNodeInputs, KubeNodeOutputs>("kubeNode", "KubernetesNode", [
  "bootstrapToken",
  "caCertHash",
]);
export type KubeNode = InstanceType<typeof KubeNode>;

/** The rendered calico.yaml applied to the cluster with kubectl, calico-node rolled out. */
export const KubeCalico = labResource<KubeCalicoInputs>("kubeCalico", "KubernetesCalico");
export type KubeCalico = InstanceType<typeof KubeCalico>;

/** A stack's pod as a Kubernetes pod, scheduled by kubelet on its host; `ip` is the address IPAM gave it. */
export const KubePod = labResource<KubePodInputs, KubePodOutputs>("kubePod", "KubernetesPod", [
  "ip",
  "hostInterface",
  "sandboxNetns",
]);
export type KubePod = InstanceType<typeof KubePod>;

export const UnderlayPort = labResource<UnderlayPortInputs>("underlayPort", "UnderlayPort");
export type UnderlayPort = InstanceType<typeof UnderlayPort>;

/** Runs the lab's checks on create and whenever the lab changes; fails the update when one fails. */
const VERIFICATION_OUTPUTS = [
  "passed",
  "failed",
  "skipped",
  "checks",
  "encapsulation",
  "reportMarkdown",
  "reportHtml",
] as const;
export const Verification = labResource<
  VerificationInputs,
  Pick<VerificationOutputs, (typeof VERIFICATION_OUTPUTS)[number]>
>("verification", "Verification", VERIFICATION_OUTPUTS);
export type Verification = InstanceType<typeof Verification>;

/** The stack's run folder; removed, with everything in it, when the stack is destroyed. */
export const RunFolder = labResource<RunFolderInputs>("runFolder", "RunFolder");
export type RunFolder = InstanceType<typeof RunFolder>;

/** A file the lab writes for its user, removed on destroy. */
export const LabFile = labResource<FileInputs>("file", "File");
export type LabFile = InstanceType<typeof LabFile>;

/** A lab host that is a VM (backend vm): QEMU on a tap of the underlay bridge, the lab namespace inside. */
export const VmHost = labResource<VmHostInputs>("vmHost", "VmHost");
export type VmHost = InstanceType<typeof VmHost>;
