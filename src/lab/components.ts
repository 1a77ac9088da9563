// The lab as Pulumi components: an underlay switch, hosts wired to it, and the verification that proves it.
import * as pulumi from "@pulumi/pulumi";
import type { HostPlan, LabPlan } from "./topology.ts";
import { Bridge, NetworkNamespace, UnderlayPort, Verification } from "./resources.ts";

/** The flat L2 underlay: a bridge in its own switch namespace (nothing in the root namespace). */
export class Underlay extends pulumi.ComponentResource {
  readonly netns: NetworkNamespace;
  readonly bridge: Bridge;
  constructor(name: string, plan: LabPlan, opts?: pulumi.ComponentResourceOptions) {
    super("calico-lab:lab:Underlay", name, {}, opts);
    this.netns = new NetworkNamespace(`${name}-netns`, { name: plan.switchNetns }, { parent: this });
    this.bridge = new Bridge(
      `${name}-bridge`,
      { netns: plan.switchNetns, name: plan.bridge, mtu: plan.mtu },
      { parent: this, dependsOn: [this.netns] },
    );
    this.registerOutputs({});
  }
}

/** One lab host: its network namespace and its underlay interface. */
export class LabHost extends pulumi.ComponentResource {
  readonly netns: NetworkNamespace;
  readonly port: UnderlayPort;
  constructor(
    name: string,
    host: HostPlan,
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
        bridge: lab.bridge,
        cidr: host.cidr,
        mtu: lab.mtu,
      },
      { parent: this, dependsOn: [this.netns, underlay.bridge] },
    );
    this.registerOutputs({});
  }
}

export class Lab extends pulumi.ComponentResource {
  readonly underlay: Underlay;
  readonly hosts: LabHost[];
  readonly verification: Verification;
  constructor(name: string, plan: LabPlan, opts?: pulumi.ComponentResourceOptions) {
    super("calico-lab:lab:Lab", name, {}, opts);
    this.underlay = new Underlay("underlay", plan, { parent: this });
    this.hosts = plan.hosts.map((h) => new LabHost(h.name, h, plan, this.underlay, { parent: this }));
    this.verification = new Verification(
      "verify",
      { plan, deadlineMs: 5000 },
      { parent: this, dependsOn: this.hosts.map((h) => h.port) },
    );
    this.registerOutputs({});
  }
}
