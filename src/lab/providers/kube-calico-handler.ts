import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CLUSTER_GONE, kubectlPatiently, tryKubectl, type KubectlReach } from "../../kubernetes/cluster.ts";
import { scaledMs } from "../timeouts.ts";
import type { Handler } from "./handler.ts";

/**
 * Calico on the kubeadm cluster, as the seeds install it: `kubectl apply -f calico.yaml` (the rendered
 * manifest, our calico-node image), then the DaemonSet rolled out on every node and every node Ready. A new
 * manifest (a mode switch) is `kubectl delete -f` of the old one, then apply of the new: what the seeds did.
 */
export interface KubeCalicoInputs {
  /** The rendered manifest's text (the file's content: a change is an update). */
  manifest: string;
  kubectl: KubectlReach;
  /** The stack's run folder: the applied copy is kept there, so delete removes exactly what was applied. */
  runDir: string;
  /** The nodes (hosts) the DaemonSet must be ready on. */
  nodes: string[];
}

const applied = (i: Pick<KubeCalicoInputs, "runDir">) => join(i.runDir, "calico-applied.yaml");
const log = (line: string) => process.stderr.write(`kubernetes: ${line}\n`);

async function apply(i: KubeCalicoInputs): Promise<void> {
  await writeFile(applied(i), i.manifest);
  log("kubectl apply -f calico.yaml");
  // --validate=false: the client-side check downloads the whole OpenAPI document, which a control plane
  // under emulation does not serve within kubectl's timeout; the API server still validates what it stores.
  await kubectlPatiently(i.kubectl, ["apply", "--validate=false", "-f", applied(i)], scaledMs(900_000), log);
  // Waits are asked again too: an API server under emulation may end a watch with a timeout of its own.
  const timeout = `${Math.round(scaledMs(900_000) / 1000)}s`;
  const waiting = { requestTimeout: "0", attemptMs: scaledMs(960_000) };
  await kubectlPatiently(
    i.kubectl,
    ["-n", "kube-system", "rollout", "status", "daemonset/calico-node", `--timeout=${timeout}`],
    scaledMs(900_000),
    log,
    waiting,
  );
  log(`calico-node rolled out on ${i.nodes.length} nodes`);
  await kubectlPatiently(
    i.kubectl,
    ["wait", "--for=condition=Ready", "node", "--all", `--timeout=${timeout}`],
    scaledMs(900_000),
    log,
    waiting,
  );
}

async function remove(i: Pick<KubeCalicoInputs, "runDir" | "kubectl">): Promise<void> {
  log("kubectl delete -f calico.yaml (the variant that was applied)");
  // A cluster that does not answer at all (refused: nothing listens) has nothing left to delete. A file that
  // is gone was never applied.
  const out = await kubectlPatiently(
    i.kubectl,
    ["delete", "-f", applied(i), "--ignore-not-found", "--wait=true"],
    scaledMs(600_000),
    log,
    { gone: new RegExp(`${CLUSTER_GONE.source}|no such file`, "i"), attemptMs: scaledMs(600_000) },
  );
  if (out !== null) await calicoNodePodsGone(i);
  await rm(applied(i), { force: true });
}

/**
 * Until the deleted DaemonSet's pods are gone (kubectl deletes them in the background), so that the new
 * variant's pods never run beside the old ones on a node whose folders they share, as the seeds waited
 * before `kubectl create -f` of the other variant.
 */
async function calicoNodePodsGone(i: Pick<KubeCalicoInputs, "kubectl">): Promise<void> {
  const timeout = `${Math.round(scaledMs(600_000) / 1000)}s`;
  const r = await tryKubectl(
    i.kubectl,
    ["-n", "kube-system", "wait", "--for=delete", "pod", "-l", "k8s-app=calico-node", `--timeout=${timeout}`],
    scaledMs(660_000),
  );
  if (r.exitCode !== 0 && !/no matching resources/i.test(r.stderr))
    throw new Error(`the old calico-node pods did not go after kubectl delete -f: ${r.stderr.trim()}`);
  log("the old calico-node pods are gone");
}

export const kubeCalicoHandler: Handler<KubeCalicoInputs> = {
  replaceOn: ["runDir"],
  async create(inputs) {
    await apply(inputs);
    return { id: `${inputs.runDir}/calico-applied`, outs: inputs };
  },
  async read(_id, props) {
    const r = await tryKubectl(props.kubectl, [
      "-n",
      "kube-system",
      "get",
      "daemonset/calico-node",
      "-o",
      "name",
    ]);
    return r.exitCode === 0 ? props : undefined;
  },
  async update(_id, olds, news) {
    if (olds.manifest !== news.manifest) await remove(olds);
    await apply(news);
    return news;
  },
  // Calico leaves with its cluster: this resource depends on every node's kubeadm init or join, so its delete
  // (a destroy, or the kubeadm setting dropped) is always followed by `kubeadm reset` and the runtime's stop
  // on every node, which remove the DaemonSet's pods with the rest. A `kubectl delete -f` first only made the
  // teardown wait on the API server: under emulation it once answered no TLS handshake for 11 minutes, the
  // destroy failed there and the VMs outlived the stack. The mode switch (update) still deletes the old
  // variant before applying the new one, as the seeds did.
  async delete(_id, props) {
    log("calico.yaml goes with the cluster (kubeadm reset on every node)");
    await rm(applied(props), { force: true });
  },
};
