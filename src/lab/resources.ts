// The lab's custom resources (one dynamic provider each). Inputs are plain data from the plan.
import * as pulumi from "@pulumi/pulumi";
import type { LabPlan } from "./topology.ts";
import { providerFor } from "./providers/dynamic.ts";
import type { CheckOutcome } from "../verify/underlay.ts";

type In<T> = { [K in keyof T]: pulumi.Input<T[K]> };

export class NetworkNamespace extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  constructor(resourceName: string, args: In<{ name: string }>, opts?: pulumi.CustomResourceOptions) {
    super(providerFor("netns"), resourceName, args, opts, "calico-lab", "NetworkNamespace");
  }
}

export class Bridge extends pulumi.dynamic.Resource {
  declare readonly netns: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  constructor(
    resourceName: string,
    args: In<{ netns: string; name: string; mtu: number }>,
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(providerFor("bridge"), resourceName, args, opts, "calico-lab", "Bridge");
  }
}

export interface UnderlayPortArgs {
  netns: string;
  ifname: string;
  switchNetns: string;
  port: string;
  bridge: string;
  cidr: string;
  mtu: number;
}

export class UnderlayPort extends pulumi.dynamic.Resource {
  declare readonly cidr: pulumi.Output<string>;
  constructor(resourceName: string, args: In<UnderlayPortArgs>, opts?: pulumi.CustomResourceOptions) {
    super(providerFor("underlayPort"), resourceName, args, opts, "calico-lab", "UnderlayPort");
  }
}

export class Verification extends pulumi.dynamic.Resource {
  declare readonly passed: pulumi.Output<number>;
  declare readonly failed: pulumi.Output<number>;
  declare readonly checks: pulumi.Output<CheckOutcome[]>;
  constructor(
    resourceName: string,
    args: { plan: LabPlan; deadlineMs: number },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      providerFor("verification"),
      resourceName,
      { ...args, passed: undefined, failed: undefined, checks: undefined },
      opts,
      "calico-lab",
      "Verification",
    );
  }
}

/** A file the lab writes for its user, removed on destroy. */
export class LabFile extends pulumi.dynamic.Resource {
  declare readonly path: pulumi.Output<string>;
  declare readonly content: pulumi.Output<string>;
  constructor(
    resourceName: string,
    args: In<{ path: string; content: string }>,
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(providerFor("file"), resourceName, args, opts, "calico-lab", "File");
  }
}
