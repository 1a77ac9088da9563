import { mkdir } from "node:fs/promises";
import { daemonPid, daemonSupervision } from "../../effects/daemon.ts";
import {
  importImages,
  imagesToImport,
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
  replaceOn: ["name", "netns", "runDir", "sandboxImage"],
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
  // A rebuilt image (the agent's code changed: a new calico-node tag in the manifest) or a new one (a pod
  // that needs busybox) is imported into the running node; the cluster stays up.
  async update(_id, olds, news) {
    const missing = imagesToImport(olds.images, news.images);
    if (missing.length > 0) {
      process.stderr.write(
        `kubernetes ${news.name}: importing ${missing.map((i) => i.archive.split("/").pop()).join(", ")}\n`,
      );
      await importImages(news, missing);
    }
    return news;
  },
  async delete(_id, props) {
    await stopNodeRuntime(props);
  },
};
