// The lab as Pulumi components: an underlay switch, hosts wired to it, etcd on the master, the agent
// (calico-node) on every host, pods wired by the CNI plugin, an outside host, and the verification
// that proves it all with packets.
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { HostPlan, LabPlan, OutsidePlan } from "./topology.ts";
import { ECHO_PORT, underlayRouteArgs } from "./topology.ts";
import type { RunningPod } from "../verify/expectations.ts";
import { hostBackends } from "../backends/index.ts";
import { checksVersion } from "../verify/checks/version.ts";
import { bgpResources, outsideBirdConf, poolResource } from "./calico-resources.ts";
import type { CalicoVariant } from "../manifest/index.ts";
import {
  Agent,
  Bridge,
  CalicoResources,
  Etcd,
  NetworkNamespace,
  OutsideRouter,
  Pod,
  UnderlayPort,
  Verification,
  VmHost,
} from "./resources.ts";

/**
 * The underlay: a bridge per subnet in its own switch namespace (nothing in the root namespace). Flat: one
 * subnet. Routed: two, and a router namespace with a leg in each that forwards between them and knows no
 * pod routes (the seeds' "different network", where IPIP CrossSubnet matters).
 */
export class Underlay extends pulumi.ComponentResource {
  readonly netns: NetworkNamespace;
  readonly bridges: Map<string, Bridge>;
  readonly router?: NetworkNamespace;
  /** Everything the hosts' ports need: the bridges, and the router's legs when routed. */
  readonly ready: pulumi.Resource[];
  constructor(name: string, plan: LabPlan, opts?: pulumi.ComponentResourceOptions) {
    super("calico-lab:lab:Underlay", name, {}, opts);
    this.netns = new NetworkNamespace(`${name}-netns`, { name: plan.switchNetns }, { parent: this });
    this.bridges = new Map(
      plan.subnets.map((s, i) => [
        s.bridge,
        new Bridge(
          i === 0 ? `${name}-bridge` : `${name}-${s.bridge}`,
          { netns: plan.switchNetns, name: s.bridge, mtu: plan.mtu },
          { parent: this, dependsOn: [this.netns] },
        ),
      ]),
    );
    this.ready = [...this.bridges.values()];
    if (plan.router) {
      const r = plan.router;
      this.router = new NetworkNamespace(
        `${name}-router-netns`,
        { name: r.netns, forwarding: true },
        { parent: this },
      );
      for (const leg of r.legs) {
        this.ready.push(
          new UnderlayPort(
            `${name}-router-${leg.ifname}`,
            {
              netns: r.netns,
              ifname: leg.ifname,
              switchNetns: plan.switchNetns,
              port: leg.port,
              bridge: leg.bridge,
              cidr: leg.cidr,
              mtu: plan.mtu,
              routes: [],
            },
            { parent: this, dependsOn: [this.router, this.bridges.get(leg.bridge)!] },
          ),
        );
      }
    }
    this.registerOutputs({});
  }
}

/** A namespace on the underlay: its eth0 is a veth whose peer is a port of its subnet's bridge. */
export class UnderlayHost extends pulumi.ComponentResource {
  readonly netns: NetworkNamespace;
  readonly port: UnderlayPort;
  constructor(
    name: string,
    host: Pick<HostPlan, "netns" | "ifname" | "port" | "cidr" | "bridge" | "routes">,
    lab: LabPlan,
    underlay: Underlay,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("calico-lab:lab:Host", name, {}, opts);
    this.netns = new NetworkNamespace(`${name}-netns`, { name: host.netns }, { parent: this });
    this.port = new UnderlayPort(
      `${name}-eth0`,
      {
        netns: host.netns,
        ifname: host.ifname,
        switchNetns: lab.switchNetns,
        port: host.port,
        bridge: host.bridge,
        cidr: host.cidr,
        mtu: lab.mtu,
        routes: host.routes,
      },
      { parent: this, dependsOn: [this.netns, underlay.bridges.get(host.bridge)!] },
    );
    this.registerOutputs({});
  }
}

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
  /** Run the verification (false: build only). */
  verify: boolean;
}

/** A lab host's machine, as its backend makes it: a namespace with its underlay port, or a VM. */
function hostMachine(
  h: HostPlan,
  plan: LabPlan,
  underlay: Underlay,
  runDir: string,
  opts: pulumi.ComponentResourceOptions,
): pulumi.Resource {
  const m = h.machine;
  switch (m.kind) {
    case "netns":
      return new UnderlayHost(h.name, h, plan, underlay, opts).port;
    case "vm":
      return new VmHost(
        `${h.name}-vm`,
        {
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
        },
        { ...opts, dependsOn: [underlay.bridges.get(h.bridge)!] },
      );
  }
}

export class Lab extends pulumi.ComponentResource {
  readonly underlay: Underlay;
  /** Each host's machine, ready for its agent: the namespace's underlay port, or the VM. */
  readonly hosts: pulumi.Resource[];
  readonly agents: Agent[];
  readonly pods: Pod[];
  readonly verification?: Verification;

  constructor(name: string, plan: LabPlan, o: LabOptions, opts?: pulumi.ComponentResourceOptions) {
    super("calico-lab:lab:Lab", name, {}, opts);
    const parent = { parent: this };
    this.underlay = new Underlay("underlay", plan, parent);
    this.hosts = plan.hosts.map((h) => hostMachine(h, plan, this.underlay, o.runDir, parent));
    const outsidePlan: OutsidePlan = plan.outside;
    const outside = new UnderlayHost("outside", outsidePlan, plan, this.underlay, parent);

    const master = this.hosts[0]!;
    const masterMachine = plan.hosts[0]!.machine;
    const limits = hostBackends[plan.backend].limits;
    const etcd = new Etcd(
      "etcd",
      {
        netns: plan.etcd.netns,
        address: plan.etcd.address,
        runDir: o.runDir,
        ...(masterMachine.kind === "vm" ? { dataDir: masterMachine.etcdDataDir } : {}),
      },
      { parent: this, dependsOn: [master, o.runFolder] },
    );
    const calicoResources = new CalicoResources(
      "bgp-config",
      {
        netns: plan.etcd.netns,
        endpoint: etcd.endpoint,
        resources: [poolResource(o.variant), ...bgpResources(plan, o.variant.asNumber)],
      },
      { parent: this, dependsOn: [etcd] },
    );
    const hostRunDir = (host: string) => join(o.runDir, host);
    this.agents = plan.hosts.map(
      (h, i) =>
        new Agent(
          `${h.name}-calico-node`,
          {
            hostNetns: h.netns,
            nodeName: h.name,
            manifestPath: o.manifestPath,
            runDir: hostRunDir(h.name),
            labels: h.labels,
            underlayRoutes: h.routes,
            ...(h.rrClusterId ? { rrClusterId: h.rrClusterId } : {}),
            ...(h.machine.kind === "vm" ? { socketDir: h.machine.socketDir } : {}),
            ...(limits.agentReadyMs ? { readyTimeoutMs: limits.agentReadyMs } : {}),
          },
          {
            parent: this,
            dependsOn: [this.hosts[i]!, ...this.underlay.ready, etcd, calicoResources, o.manifestReady],
          },
        ),
    );
    const routers: pulumi.Resource[] = [];
    if (plan.outside.asNumber !== undefined) {
      routers.push(
        new OutsideRouter(
          "outside-router",
          {
            netns: plan.outside.netns,
            runDir: o.runDir,
            birdConf: outsideBirdConf(plan, o.variant.asNumber),
          },
          { parent: this, dependsOn: [outside.port, o.runFolder, ...this.agents] },
        ),
      );
    }
    this.pods = plan.pods.map((p) => {
      const hostIndex = plan.hosts.findIndex((h) => h.name === p.host);
      return new Pod(
        p.name,
        {
          name: p.name,
          netns: p.netns,
          hostNetns: p.hostNetns,
          host: p.host,
          namespace: p.namespace,
          containerId: p.containerId,
          manifestPath: o.manifestPath,
          runDir: o.runDir,
          server: p.server,
          serverPort: ECHO_PORT,
        },
        { parent: this, dependsOn: [this.agents[hostIndex]!, o.runFolder] },
      );
    });
    if (o.verify) {
      this.verification = new Verification(
        "verify",
        {
          plan,
          pods: pulumi.all(
            this.pods.map((p, i) =>
              p.ip.apply((ip): RunningPod => ({
                name: plan.pods[i]!.name,
                ip,
                host: plan.pods[i]!.host,
                server: plan.pods[i]!.server,
              })),
            ),
          ),
          runDir: o.runDir,
          deadlineMs: limits.verifyDeadlineMs,
          checksVersion: checksVersion(),
        },
        // After the pool and BGP resources too: a mode switch changes them and the checks in one update,
        // and the checks must see the new pool applied, not race it.
        { parent: this, dependsOn: [...this.pods, outside.port, o.runFolder, calicoResources, ...routers] },
      );
    }
    this.registerOutputs({});
  }
}
