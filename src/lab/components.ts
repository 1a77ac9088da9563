// The lab as Pulumi components: an underlay switch, hosts wired to it, etcd on the master, the agent
// (calico-node) on every host, pods wired by the CNI plugin, an outside host, and the verification
// that proves it all with packets. What to create is graph.ts's labGraph; this file makes it Pulumi's.
import * as pulumi from "@pulumi/pulumi";
import type { LabPlan } from "./topology.ts";
import {
  EXTERNAL,
  isOutputRef,
  labGraph,
  mapRefs,
  refsOf,
  type LabGroup,
  type LabInputs,
  type LabKind,
  type LabNode,
  type OutputRef,
} from "./graph.ts";
import type { CalicoVariant } from "../manifest/index.ts";
import type { ClusterImages } from "./cluster-graph.ts";
import { checksVersion } from "../verify/checks/version.ts";
import {
  Agent,
  Bridge,
  CalicoResources,
  Etcd,
  KubeCalico,
  KubeNode,
  KubePod,
  KubeRuntime,
  NetworkNamespace,
  OutsideRouter,
  Pod,
  UnderlayPort,
  Verification,
  VmHost,
} from "./resources.ts";

export interface LabOptions {
  /** The rendered calico.yaml the agents and the CNI plugin read (one source of truth). */
  manifestPath: pulumi.Input<string>;
  /** Resources that must exist before agents start (the manifest file). */
  manifestReady: pulumi.Resource;
  /** The Calico variant the manifest was rendered from (the pool and the AS number come from it). */
  variant: CalicoVariant;
  /** Run folder of the stack: .lab/<stack>, and the resource that removes it last. */
  runDir: string;
  runFolder: pulumi.Resource;
  /** A kubeadm cluster's images (plan.kubernetes kubeadm). */
  images?: ClusterImages;
}

type Args<K extends LabKind> = { [P in keyof LabInputs[K]]: pulumi.Input<LabInputs[K][P]> };
type ResourceClass<A> = new (
  name: string,
  args: A,
  opts?: pulumi.CustomResourceOptions,
) => pulumi.CustomResource;

/** The Pulumi resource (resources.ts) of each kind of graph node. */
const RESOURCE_CLASSES: { [K in LabKind]: ResourceClass<Args<K>> } = {
  netns: NetworkNamespace,
  bridge: Bridge,
  underlayPort: UnderlayPort,
  vmHost: VmHost,
  etcd: Etcd,
  calicoResources: CalicoResources,
  agent: Agent,
  outsideRouter: OutsideRouter,
  pod: Pod,
  kubeRuntime: KubeRuntime,
  kubeNode: KubeNode,
  kubeCalico: KubeCalico,
  kubePod: KubePod,
  verification: Verification,
};

/** A graph node as the Pulumi resource of its kind, its OutputRefs already resolved. */
function customResource(node: LabNode, inputs: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
  return new (RESOURCE_CLASSES[node.kind] as ResourceClass<pulumi.Inputs>)(node.name, inputs, opts);
}

/** The underlay or one host: a component that groups its resources in the stack (their URNs' parent). */
class LabGroupComponent extends pulumi.ComponentResource {
  constructor(g: LabGroup, opts: pulumi.ComponentResourceOptions) {
    super(g.type, g.name, {}, opts);
    this.registerOutputs({});
  }
}

/**
 * The lab as Pulumi resources: labGraph's nodes, in its order, each under its component (the underlay, a
 * host) or the lab, with its dependsOn, and its OutputRefs as the named resources' outputs.
 */
export class Lab extends pulumi.ComponentResource {
  readonly resources = new Map<string, pulumi.Resource>();
  readonly pods: (Pod | KubePod)[] = [];
  readonly verification: Verification;

  constructor(name: string, plan: LabPlan, o: LabOptions, opts?: pulumi.ComponentResourceOptions) {
    super("calico-lab:lab:Lab", name, {}, opts);
    const graph = labGraph(plan, {
      variant: o.variant,
      runDir: o.runDir,
      checksVersion: checksVersion(),
      ...(o.images ? { images: o.images } : {}),
    });
    const external = new Map<string, pulumi.Resource>([
      [EXTERNAL.manifest, o.manifestReady],
      [EXTERNAL.runFolder, o.runFolder],
    ]);
    const groups = new Map<string, LabGroupComponent>();
    const group = (g: LabGroup) => {
      let c = groups.get(g.name);
      if (!c) groups.set(g.name, (c = new LabGroupComponent(g, { parent: this })));
      return c;
    };
    const resource = (name: string) => {
      const r = this.resources.get(name) ?? external.get(name);
      if (!r) throw new Error(`lab graph: ${name} is needed before it is declared`);
      return r;
    };
    const output = (r: OutputRef): pulumi.Output<unknown> =>
      r.$ref === EXTERNAL.manifest && r.output === "path"
        ? pulumi.output(o.manifestPath)
        : (resource(r.$ref) as unknown as Record<string, pulumi.Output<unknown>>)[r.output]!;
    for (const node of graph.nodes) {
      const inputs = Object.fromEntries(
        Object.entries(node.inputs).map(([k, v]) => {
          const resolved = mapRefs(v, output);
          // A value holding outputs deep inside is one output of the whole value, as pulumi.all makes it.
          return [k, isOutputRef(v) || refsOf(v).length === 0 ? resolved : pulumi.output(resolved)];
        }),
      ) as pulumi.Inputs;
      const r = customResource(node, inputs, {
        parent: node.group ? group(node.group) : this,
        ...(node.dependsOn.length > 0 ? { dependsOn: node.dependsOn.map(resource) } : {}),
      });
      this.resources.set(node.name, r);
      if (r instanceof Pod || r instanceof KubePod) this.pods.push(r);
    }
    this.verification = resource("verify") as Verification;
    this.registerOutputs({});
  }
}
