import { mkdir } from "node:fs/promises";
import { daemonPid, daemonSupervision } from "../../effects/daemon.ts";
import {
  startContainerRuntime,
  startKubelet,
  stopNodeRuntime,
  type NodeRuntimeSpec,
} from "../../kubernetes/node-runtime.ts";
import type { Handler } from "./handler.ts";

/**
 * A Kubernetes node's runtime on a lab host: containerd and kubelet (waiting for kubeadm's configuration)
 * supervised in its namespace, the images imported. Its own resource, so that the workers get ready while
 * the master's control plane starts (minutes under TCG); kubeadm init or join is the KubernetesNode after it.
 */
export type KubeRuntimeInputs = NodeRuntimeSpec;

async function running(runDir: string, name: string): Promise<boolean> {
  return Boolean((await daemonPid(runDir, name)) ?? (await daemonSupervision(runDir, name)));
}

export const kubeRuntimeHandler: Handler<KubeRuntimeInputs> = {
  replaceOn: ["name", "netns", "runDir", "sandboxImage", "images"],
  async create(inputs) {
    await mkdir(inputs.runDir, { recursive: true });
    try {
      await startContainerRuntime(inputs);
      await startKubelet(inputs);
    } catch (e) {
      await stopNodeRuntime(inputs).catch(() => undefined);
      throw e;
    }
    return { id: `${inputs.netns}/kubernetes-runtime`, outs: inputs };
  },
  async read(_id, props) {
    return (await running(props.runDir, "containerd")) && (await running(props.runDir, "kubelet"))
      ? props
      : undefined;
  },
  async delete(_id, props) {
    await stopNodeRuntime(props);
  },
};
