import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { bootstrapToken, caCertHash } from "../../kubernetes/bootstrap.ts";
import {
  CA_CERT,
  copyKubeconfig,
  kubeadm,
  readNodeFile,
  tryKubectl,
  type KubectlReach,
} from "../../kubernetes/cluster.ts";
import {
  controlPlanePatches,
  initConfiguration,
  joinConfiguration,
  type InitInputs,
  type JoinInputs,
} from "../../kubernetes/kubeadm-config.ts";
import { resetNode, type NodeRuntimeSpec } from "../../kubernetes/node-runtime.ts";
import { sleep } from "../../supervise/process.ts";
import { scaledMs } from "../timeouts.ts";
import type { Handler } from "./handler.ts";

/** The master's kubeadm init (the token is made here, at create), or a worker's join of it. */
export type KubeNodeRole =
  | { kind: "control-plane"; init: Omit<InitInputs, "bootstrapToken"> }
  | {
      kind: "worker";
      join: Omit<JoinInputs, "bootstrapToken" | "ca">;
      /** The master's outputs. */
      bootstrapToken: string;
      caCertHash: string;
    };

/** A lab host in the cluster: kubeadm init (the master) or join, once its runtime runs (kube-runtime-handler). */
export interface KubeNodeInputs extends Pick<NodeRuntimeSpec, "name" | "netns" | "runDir"> {
  role: KubeNodeRole;
  /** The stack's run folder: the master copies its admin kubeconfig there. */
  stackRunDir: string;
  /** How kubectl reaches the cluster from this machine (the outside host's namespace). */
  kubectl: KubectlReach;
}

export interface KubeNodeOutputs extends KubeNodeInputs {
  /** The master's: what the workers join with. Empty on a worker. */
  bootstrapToken: string;
  caCertHash: string;
}

const log = (node: string) => (line: string) => process.stderr.write(`kubernetes ${node}: ${line}\n`);

/** Until kubectl lists the node (a join returns once kubelet bootstrapped; the API may lag under TCG). */
async function registered(i: KubeNodeInputs): Promise<void> {
  const until = Date.now() + scaledMs(300_000);
  for (;;) {
    const r = await tryKubectl(i.kubectl, ["get", "node", i.name, "-o", "name"]);
    if (r.exitCode === 0) return;
    if (Date.now() > until)
      throw new Error(`node ${i.name} joined but the API server does not list it: ${r.stderr.trim()}`);
    await sleep(2000);
  }
}

async function create(i: KubeNodeInputs): Promise<KubeNodeOutputs> {
  await mkdir(i.runDir, { recursive: true });
  const config = join(i.runDir, "kubeadm.yaml");
  if (i.role.kind === "control-plane") {
    const token = bootstrapToken((n) => randomBytes(n));
    const patchesDir = join(i.runDir, "patches");
    await mkdir(patchesDir, { recursive: true });
    for (const [name, content] of Object.entries(controlPlanePatches()))
      await writeFile(join(patchesDir, name), content);
    await writeFile(config, initConfiguration({ ...i.role.init, bootstrapToken: token, patchesDir }), {
      mode: 0o600,
    });
    await kubeadm("init", i.netns, config, log(i.name));
    await copyKubeconfig(i.netns, i.stackRunDir);
    const hash = caCertHash(await readNodeFile(i.netns, CA_CERT));
    return { ...i, bootstrapToken: token, caCertHash: hash };
  }
  const r = i.role;
  await writeFile(
    config,
    joinConfiguration({ ...r.join, bootstrapToken: r.bootstrapToken, ca: { certHash: r.caCertHash } }),
    { mode: 0o600 },
  );
  await kubeadm("join", i.netns, config, log(i.name));
  await registered(i);
  return { ...i, bootstrapToken: "", caCertHash: "" };
}

export const kubeNodeHandler: Handler<KubeNodeInputs, KubeNodeOutputs> = {
  replaceOn: ["name", "netns", "runDir", "role", "stackRunDir"],
  async create(inputs) {
    try {
      const outs = await create(inputs);
      return { id: `${inputs.netns}/kubernetes-node`, outs };
    } catch (e) {
      await resetNode(inputs).catch(() => undefined);
      throw e;
    }
  },
  async read(_id, props) {
    // In the cluster while the API server lists it (an unreachable API server is not a node gone).
    const r = await tryKubectl(props.kubectl, ["get", "node", props.name, "-o", "name"]);
    return r.exitCode !== 0 && /NotFound/.test(r.stderr) ? undefined : props;
  },
  async delete(_id, props) {
    await resetNode(props);
  },
};
