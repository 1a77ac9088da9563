// The lab's resources as data: what a plan means to create, named as the stack names it, with which inputs,
// after what, and which inputs are other resources' outputs (etcd's endpoint, a pod's address). Pure.
// components.ts turns the graph into Pulumi resources; runner.ts runs the same handlers without an engine.
import { join } from "node:path";
import { hostBackends } from "../backends/index.ts";
import type { VmMachine } from "../backends/types.ts";
import type { CalicoVariant } from "../manifest/index.ts";
import type { AgentInputs } from "./providers/agent-handler.ts";
import type { BridgeInputs } from "./providers/bridge-handler.ts";
import type { CalicoResourcesInputs } from "./providers/calico-resources-handler.ts";
import type { EtcdInputs } from "./providers/etcd-handler.ts";
import type { NetnsInputs } from "./providers/netns-handler.ts";
import type { OutsideRouterInputs } from "./providers/outside-router-handler.ts";
import type { PodInputs } from "./providers/pod-handler.ts";
import type { UnderlayPortInputs } from "./providers/underlay-port-handler.ts";
import type { VerificationInputs } from "./providers/verification-handler.ts";
import type { VmHostInputs } from "./providers/vm-host-handler.ts";
import type { KubeNodeInputs } from "./providers/kube-node-handler.ts";
import type { KubeRuntimeInputs } from "./providers/kube-runtime-handler.ts";
import type { KubeCalicoInputs } from "./providers/kube-calico-handler.ts";
import type { KubePodInputs } from "./providers/kube-pod-handler.ts";
import { clusterNodes, KUBE_MASTER_MEMORY, KUBE_WORKER_MEMORY, type ClusterImages } from "./cluster-graph.ts";
import { manifestImageRef } from "./cluster-images.ts";
import { CONTAINERD_ROOT, K8S_ETCD } from "../kubernetes/node-runtime.ts";
import { bgpResources, outsideBirdConf, poolResource } from "./calico-resources.ts";
import type { HostPlan, LabPlan } from "./topology.ts";
import { kubernetesPath } from "./topology.ts";
import { ECHO_PORT, underlayRouteArgs } from "./topology.ts";
import { runFiles } from "../agent/daemon/status.ts";

/** Where a host's agent keeps its sockets: a VM host's in a tmpfs inside the VM, else its run folder. */
function agentSocketDir(plan: LabPlan, host: string): string | undefined {
  const h = plan.hosts.find((x) => x.name === host);
  return h?.machine.kind === "vm" ? h.machine.socketDir : undefined;
}

/** An input that is another resource's output, known once that resource exists. */
export interface OutputRef {
  readonly $ref: string;
  readonly output: string;
}

export function outputRef(node: string, output: string): OutputRef {
  return { $ref: node, output };
}

export function isOutputRef(v: unknown): v is OutputRef {
  return typeof v === "object" && v !== null && typeof (v as OutputRef).$ref === "string";
}

/** Plain data in which any value may be an OutputRef. */
export type Wired<T> = T extends readonly (infer E)[]
  ? Wired<E>[] | OutputRef
  : T extends object
    ? { [K in keyof T]: Wired<T[K]> } | OutputRef
    : T | OutputRef;

/** What the lab needs from outside the graph: the manifest file (output `path`) and the run folder. */
export const EXTERNAL = { manifest: "@manifest", runFolder: "@runFolder" } as const;

/** Each kind's inputs, keyed by its handler's name in providers/handlers.ts. */
export interface LabInputs {
  netns: NetnsInputs;
  bridge: BridgeInputs;
  underlayPort: UnderlayPortInputs;
  vmHost: VmHostInputs;
  etcd: EtcdInputs;
  calicoResources: CalicoResourcesInputs;
  agent: AgentInputs;
  outsideRouter: OutsideRouterInputs;
  pod: PodInputs;
  kubeRuntime: KubeRuntimeInputs;
  kubeNode: KubeNodeInputs;
  kubeCalico: KubeCalicoInputs;
  kubePod: KubePodInputs;
  verification: VerificationInputs;
}
export type LabKind = keyof LabInputs;

/** The component a resource belongs to in the stack (its URN's parent): the underlay, or one host. */
export interface LabGroup {
  type: "calico-lab:lab:Underlay" | "calico-lab:lab:Host";
  name: string;
}

export type LabNode = {
  [K in LabKind]: {
    kind: K;
    /** The resource's name in the stack (unique in the graph). */
    name: string;
    group?: LabGroup;
    inputs: Wired<LabInputs[K]>;
    /** Nodes (or EXTERNAL names) that must exist first, besides the ones its OutputRefs name. */
    dependsOn: string[];
  };
}[LabKind];

export interface LabGraph {
  nodes: LabNode[];
}

export interface LabGraphOptions {
  /** The Calico variant the manifest was rendered from (the pool and the AS number come from it). */
  variant: CalicoVariant;
  /** Run folder of the stack: .lab/<stack>. */
  runDir: string;
  /** The digest of the verification code (src/verify/checks/version.ts checksVersion). */
  checksVersion: string;
  /** A kubeadm cluster's images (plan.kubernetes kubeadm; program.ts reads them from .tools/images). */
  images?: ClusterImages;
}

const UNDERLAY: LabGroup = { type: "calico-lab:lab:Underlay", name: "underlay" };
const hostGroup = (name: string): LabGroup => ({ type: "calico-lab:lab:Host", name });

/**
 * The underlay: a bridge per subnet in its own switch namespace (nothing in the root namespace). Flat: one
 * subnet. Routed: two, and a router namespace with a leg in each that forwards between them and knows no
 * pod routes (the seeds' "different network", where IPIP CrossSubnet matters). Returns the nodes and the
 * names the hosts' ports need (the bridges, and the router's legs when routed).
 */
function underlayNodes(plan: LabPlan): { nodes: LabNode[]; ready: string[]; bridges: Map<string, string> } {
  const n = UNDERLAY.name;
  const nodes: LabNode[] = [
    { kind: "netns", name: `${n}-netns`, group: UNDERLAY, inputs: { name: plan.switchNetns }, dependsOn: [] },
  ];
  const bridges = new Map<string, string>();
  plan.subnets.forEach((s, i) => {
    const name = i === 0 ? `${n}-bridge` : `${n}-${s.bridge}`;
    bridges.set(s.bridge, name);
    nodes.push({
      kind: "bridge",
      name,
      group: UNDERLAY,
      inputs: { netns: plan.switchNetns, name: s.bridge, mtu: plan.mtu },
      dependsOn: [`${n}-netns`],
    });
  });
  const ready = [...bridges.values()];
  const r = plan.router;
  if (r) {
    const routerNetns = `${n}-router-netns`;
    nodes.push({
      kind: "netns",
      name: routerNetns,
      group: UNDERLAY,
      inputs: { name: r.netns, forwarding: true },
      dependsOn: [],
    });
    for (const leg of r.legs) {
      const name = `${n}-router-${leg.ifname}`;
      ready.push(name);
      nodes.push({
        kind: "underlayPort",
        name,
        group: UNDERLAY,
        inputs: {
          netns: r.netns,
          ifname: leg.ifname,
          switchNetns: plan.switchNetns,
          port: leg.port,
          bridge: leg.bridge,
          cidr: leg.cidr,
          mtu: plan.mtu,
          routes: [],
        },
        dependsOn: [routerNetns, bridges.get(leg.bridge)!],
      });
    }
  }
  return { nodes, ready, bridges };
}

/** A namespace on the underlay: its eth0 is a veth whose peer is a port of its subnet's bridge. */
function underlayHostNodes(
  name: string,
  host: Pick<HostPlan, "netns" | "ifname" | "port" | "cidr" | "bridge" | "routes">,
  plan: LabPlan,
  bridges: Map<string, string>,
): { nodes: LabNode[]; port: string } {
  const group = hostGroup(name);
  const port = `${name}-eth0`;
  return {
    port,
    nodes: [
      { kind: "netns", name: `${name}-netns`, group, inputs: { name: host.netns }, dependsOn: [] },
      {
        kind: "underlayPort",
        name: port,
        group,
        inputs: {
          netns: host.netns,
          ifname: host.ifname,
          switchNetns: plan.switchNetns,
          port: host.port,
          bridge: host.bridge,
          cidr: host.cidr,
          mtu: plan.mtu,
          routes: host.routes,
        },
        dependsOn: [`${name}-netns`, bridges.get(host.bridge)!],
      },
    ],
  };
}

/** A lab host's machine, as its backend makes it: a namespace with its underlay port, or a VM. */
function hostMachine(
  h: HostPlan,
  plan: LabPlan,
  bridges: Map<string, string>,
  runDir: string,
): { nodes: LabNode[]; port: string } {
  const m = h.machine;
  switch (m.kind) {
    case "netns":
      return underlayHostNodes(h.name, h, plan, bridges);
    case "vm":
      return vmHostNodes(h, m, plan, bridges, runDir);
  }
}

function vmHostNodes(
  h: HostPlan,
  m: VmMachine,
  plan: LabPlan,
  bridges: Map<string, string>,
  runDir: string,
): { nodes: LabNode[]; port: string } {
  const name = `${h.name}-vm`;
  // A Kubernetes node holds the images twice (content and snapshots) on tmpfs, the master a control plane.
  const kube = kubernetesPath(plan, {
    none: () => ({}),
    kubeadm: () => ({
      memory: h === plan.hosts[0] ? KUBE_MASTER_MEMORY : KUBE_WORKER_MEMORY,
      // The control plane starts in minutes under TCG on one vCPU; two halve it.
      ...(h === plan.hosts[0] ? { cpus: 2 } : {}),
      tmpfs: [CONTAINERD_ROOT],
    }),
  });
  return {
    port: name,
    nodes: [
      {
        kind: "vmHost",
        name,
        inputs: {
          name: h.name,
          switchNetns: plan.switchNetns,
          bridge: h.bridge,
          tap: h.port,
          mac: m.mac,
          execPort: m.execPort,
          netns: h.netns,
          cidr: h.cidr,
          routes: h.routes.map((r) => underlayRouteArgs(r, h.ifname)),
          mtu: plan.mtu,
          // Not the agent's run dir: the agent's delete removes that while the VM still runs.
          runDir: join(runDir, `vm-${h.name}`),
          ...kube,
        },
        dependsOn: [bridges.get(h.bridge)!],
      },
    ],
  };
}

/** Every resource of the lab a plan describes, in the order the Lab component declares them. */
export function labGraph(plan: LabPlan, o: LabGraphOptions): LabGraph {
  const underlay = underlayNodes(plan);
  const machines = plan.hosts.map((h) => hostMachine(h, plan, underlay.bridges, o.runDir));
  const outside = underlayHostNodes("outside", plan.outside, plan, underlay.bridges);
  const manifestPath = outputRef(EXTERNAL.manifest, "path");
  const masterMachine = plan.hosts[0]!.machine;
  const limits = hostBackends[plan.backend].limits;
  const nodes: LabNode[] = [...underlay.nodes, ...machines.flatMap((m) => m.nodes), ...outside.nodes];
  nodes.push(
    {
      kind: "etcd",
      name: "etcd",
      inputs: {
        netns: plan.etcd.netns,
        address: plan.etcd.address,
        runDir: o.runDir,
        ...(masterMachine.kind === "vm" ? { dataDir: masterMachine.etcdDataDir } : {}),
        // Kubernetes keeps its objects there too, and kube-apiserver v1.34 needs etcd 3.5 or later.
        ...kubernetesPath(plan, { none: () => ({}), kubeadm: () => ({ binary: K8S_ETCD }) }),
      },
      dependsOn: [machines[0]!.port, EXTERNAL.runFolder],
    },
    {
      kind: "calicoResources",
      name: "bgp-config",
      inputs: {
        netns: plan.etcd.clientNetns,
        endpoint: outputRef("etcd", "endpoint"),
        resources: [poolResource(o.variant), ...bgpResources(plan, o.variant.asNumber)],
      },
      // Its client may run on the outside host (plan.etcd.clientNetns), wired to the underlay by its port.
      dependsOn: ["etcd", outside.port],
    },
  );
  const lab = kubernetesPath(plan, {
    none: () => labDaemonNodes(plan, o, machines, underlay.ready, manifestPath, limits.agentReadyMs),
    kubeadm: () => {
      if (!o.images) throw new Error("a kubeadm lab's graph needs its images (LabGraphOptions.images)");
      const c = clusterNodes({
        plan,
        runDir: o.runDir,
        images: o.images,
        machines: machines.map((m) => m.port),
        outsidePort: outside.port,
        ready: [...underlay.ready, "etcd", "bgp-config"],
      });
      return { nodes: c.nodes, calicoNodes: [c.calico], pods: c.pods };
    },
  });
  nodes.push(...lab.nodes.filter((n: LabNode) => n.kind !== "pod" && n.kind !== "kubePod"));
  const routers: string[] = [];
  if (plan.outside.asNumber !== undefined) {
    routers.push("outside-router");
    nodes.push({
      kind: "outsideRouter",
      name: "outside-router",
      inputs: {
        netns: plan.outside.netns,
        runDir: o.runDir,
        birdConf: outsideBirdConf(plan, o.variant.asNumber),
      },
      dependsOn: [outside.port, EXTERNAL.runFolder, ...lab.calicoNodes],
    });
  }
  nodes.push(...lab.nodes.filter((n: LabNode) => n.kind === "pod" || n.kind === "kubePod"));
  nodes.push({
    kind: "verification",
    name: "verify",
    inputs: {
      plan,
      pods: plan.pods.map((p) => ({
        name: p.name,
        ip: outputRef(p.name, "ip"),
        host: p.host,
        server: p.server,
      })),
      runDir: o.runDir,
      deadlineMs: limits.verifyDeadlineMs,
      checksVersion: o.checksVersion,
      ...(o.images ? { cluster: { nodeImage: manifestImageRef(o.images.calicoNode.ref) } } : {}),
    },
    // After the pool and BGP resources too: a mode switch changes them and the checks in one update,
    // and the checks must see the new pool applied, not race it.
    dependsOn: [...plan.pods.map((p) => p.name), outside.port, EXTERNAL.runFolder, "bgp-config", ...routers],
  });
  return { nodes };
}

/** The lab's own calico-node daemons and its pods, wired by the CNI plugin as kubelet would (no Kubernetes). */
function labDaemonNodes(
  plan: LabPlan,
  o: LabGraphOptions,
  machines: { port: string }[],
  underlayReady: string[],
  manifestPath: OutputRef,
  agentReadyMs: number | undefined,
): { nodes: LabNode[]; calicoNodes: string[]; pods: string[] } {
  const nodes: LabNode[] = [];
  const agents = plan.hosts.map((h) => `${h.name}-calico-node`);
  plan.hosts.forEach((h, i) =>
    nodes.push({
      kind: "agent",
      name: agents[i]!,
      inputs: {
        hostNetns: h.netns,
        nodeName: h.name,
        manifestPath,
        runDir: join(o.runDir, h.name),
        labels: h.labels,
        underlayRoutes: h.routes,
        ...(h.rrClusterId ? { rrClusterId: h.rrClusterId } : {}),
        ...(h.machine.kind === "vm" ? { socketDir: h.machine.socketDir } : {}),
        ...(agentReadyMs ? { readyTimeoutMs: agentReadyMs } : {}),
      },
      dependsOn: [machines[i]!.port, ...underlayReady, "etcd", "bgp-config", EXTERNAL.manifest],
    }),
  );
  for (const p of plan.pods) {
    const hostIndex = plan.hosts.findIndex((h) => h.name === p.host);
    nodes.push({
      kind: "pod",
      name: p.name,
      inputs: {
        name: p.name,
        netns: p.netns,
        hostNetns: p.hostNetns,
        host: p.host,
        namespace: p.namespace,
        containerId: p.containerId,
        manifestPath,
        runDir: o.runDir,
        agentSocket: runFiles(join(o.runDir, p.host), agentSocketDir(plan, p.host)).cniSocket,
        server: p.server,
        serverPort: ECHO_PORT,
      },
      dependsOn: [agents[hostIndex]!, EXTERNAL.runFolder],
    });
  }
  return { nodes, calicoNodes: agents, pods: plan.pods.map((p) => p.name) };
}

/** Plain data with each OutputRef replaced by what `output` makes of it (a Pulumi Output, a value). */
export function mapRefs(value: unknown, output: (r: OutputRef) => unknown): unknown {
  if (isOutputRef(value)) return output(value);
  if (Array.isArray(value)) return value.map((v) => mapRefs(v, output));
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapRefs(v, output)]));
  return value;
}

/** The names an input refers to (its OutputRefs' nodes), depth first. */
export function refsOf(value: unknown): string[] {
  if (isOutputRef(value)) return [value.$ref];
  if (Array.isArray(value)) return value.flatMap(refsOf);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(refsOf);
  return [];
}

/** Everything a node waits for: its dependsOn and the nodes its OutputRefs name, each once. */
export function prerequisites(node: LabNode): string[] {
  return [...new Set([...node.dependsOn, ...refsOf(node.inputs)])];
}

/**
 * The graph without the nodes `drop` selects (a test lab that needs no verification, say). Throws when a
 * node kept needs one dropped.
 */
export function withoutNodes(graph: LabGraph, drop: (n: LabNode) => boolean): LabGraph {
  const dropped = new Set(graph.nodes.filter(drop).map((n) => n.name));
  const nodes = graph.nodes.filter((n) => !dropped.has(n.name));
  for (const n of nodes) {
    const needs = prerequisites(n).filter((d) => dropped.has(d));
    if (needs.length > 0) throw new Error(`${n.name} needs ${needs.join(", ")}, which would be dropped`);
  }
  return { nodes };
}
