// The lab's custom resources (one dynamic provider each). Inputs are plain data from the plan.
import * as pulumi from "@pulumi/pulumi";
import type { AgentInputs } from "./providers/agent-handler.ts";
import type { NetnsInputs } from "./providers/netns-handler.ts";
import type { PodInputs } from "./providers/pod-handler.ts";
import type { UnderlayPortInputs } from "./providers/underlay-port-handler.ts";
import type { VerificationInputs } from "./providers/verification-handler.ts";
import type { VmHostInputs } from "./providers/vm-host-handler.ts";
import { providerFor } from "./providers/dynamic.ts";

type In<T> = { [K in keyof T]: pulumi.Input<T[K]> };

export class NetworkNamespace extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  constructor(resourceName: string, args: In<NetnsInputs>, opts?: pulumi.CustomResourceOptions) {
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

export class Agent extends pulumi.dynamic.Resource {
  constructor(resourceName: string, args: In<AgentInputs>, opts?: pulumi.CustomResourceOptions) {
    super(providerFor("agent"), resourceName, args, opts, "calico-lab", "Agent");
  }
}

export class Etcd extends pulumi.dynamic.Resource {
  declare readonly endpoint: pulumi.Output<string>;
  constructor(
    resourceName: string,
    args: In<{ netns: string; address: string; runDir: string; dataDir?: string }>,
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      providerFor("etcd"),
      resourceName,
      { ...args, endpoint: undefined, pid: undefined },
      opts,
      "calico-lab",
      "Etcd",
    );
  }
}

export class CalicoResources extends pulumi.dynamic.Resource {
  constructor(
    resourceName: string,
    args: In<{ netns: string; endpoint: string; resources: { kind: string; metadata: { name: string } }[] }>,
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(providerFor("calicoResources"), resourceName, args, opts, "calico-lab", "CalicoResources");
  }
}

export class OutsideRouter extends pulumi.dynamic.Resource {
  constructor(
    resourceName: string,
    args: In<{ netns: string; runDir: string; birdConf: string }>,
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(providerFor("outsideRouter"), resourceName, args, opts, "calico-lab", "OutsideRouter");
  }
}

/** A pod: a namespace wired by the CNI plugin as a kubelet would; `ip` is the address IPAM gave it. */
export class Pod extends pulumi.dynamic.Resource {
  declare readonly ip: pulumi.Output<string>;
  declare readonly hostInterface: pulumi.Output<string>;
  constructor(resourceName: string, args: In<PodInputs>, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("pod"),
      resourceName,
      { ...args, ip: undefined, hostInterface: undefined },
      opts,
      "calico-lab",
      "Pod",
    );
  }
}

export class UnderlayPort extends pulumi.dynamic.Resource {
  declare readonly cidr: pulumi.Output<string>;
  constructor(resourceName: string, args: In<UnderlayPortInputs>, opts?: pulumi.CustomResourceOptions) {
    super(providerFor("underlayPort"), resourceName, args, opts, "calico-lab", "UnderlayPort");
  }
}

/** Runs the lab's checks on create and whenever the lab changes; fails the update when one fails. */
export class Verification extends pulumi.dynamic.Resource {
  declare readonly passed: pulumi.Output<number>;
  declare readonly failed: pulumi.Output<number>;
  declare readonly skipped: pulumi.Output<number>;
  declare readonly checks: pulumi.Output<string[]>;
  declare readonly encapsulation: pulumi.Output<string>;
  declare readonly reportMarkdown: pulumi.Output<string>;
  declare readonly reportHtml: pulumi.Output<string>;
  constructor(resourceName: string, args: In<VerificationInputs>, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("verification"),
      resourceName,
      {
        ...args,
        passed: undefined,
        failed: undefined,
        skipped: undefined,
        checks: undefined,
        encapsulation: undefined,
        reportMarkdown: undefined,
        reportHtml: undefined,
      },
      opts,
      "calico-lab",
      "Verification",
    );
  }
}

/** The stack's run folder; removed, with everything in it, when the stack is destroyed. */
export class RunFolder extends pulumi.dynamic.Resource {
  declare readonly path: pulumi.Output<string>;
  constructor(resourceName: string, args: In<{ path: string }>, opts?: pulumi.CustomResourceOptions) {
    super(providerFor("runFolder"), resourceName, args, opts, "calico-lab", "RunFolder");
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

/** A lab host that is a VM (backend vm): QEMU on a tap of the underlay bridge, the lab namespace inside. */
export class VmHost extends pulumi.dynamic.Resource {
  constructor(resourceName: string, args: In<VmHostInputs>, opts?: pulumi.CustomResourceOptions) {
    super(providerFor("vmHost"), resourceName, args, opts, "calico-lab", "VmHost");
  }
}
