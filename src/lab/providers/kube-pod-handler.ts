import { mkdir, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { vethName } from "../../agent/cni/naming.ts";
import { CLUSTER_GONE, kubectlPatiently, tryKubectl, type KubectlReach } from "../../kubernetes/cluster.ts";
import { CRICTL, onNode } from "../../kubernetes/node-runtime.ts";
import { podManifest } from "../../kubernetes/pod-spec.ts";
import {
  lastEvent,
  podPollMs,
  podProgress,
  podWaitFailure,
  type EventsJson,
  type PodJson,
  type PodProgress,
} from "../../kubernetes/pod-status.ts";
import { sleep } from "../../supervise/process.ts";
import { run, tryRun } from "../../effects/exec.ts";
import { hostOfNetns } from "../../effects/host-exec.ts";
import { assertNetnsName } from "../../effects/names.ts";
import { scaledMs } from "../timeouts.ts";
import type { Handler } from "./handler.ts";

/**
 * A stack's pod as a Kubernetes pod: applied with kubectl, placed by nodeSelector, wired by kubelet calling our
 * CNI plugin. Its network namespace (containerd's cni-<id>) is also named as the plan names the pod's
 * (a bind mount on the node, recorded as the node's), so every check finds it as it finds a lab pod's.
 */
export interface KubePodInputs {
  name: string;
  namespace: string;
  /** The node (host) it runs on, and that host's lab namespace. */
  host: string;
  hostNetns: string;
  /** The name the lab gives its namespace (the plan's). */
  netns: string;
  image: string;
  server: boolean;
  serverPort: number;
  kubectl: KubectlReach;
  /** Where its Pod manifest is written (the stack's run folder). */
  runDir: string;
}

export interface KubePodOutputs extends KubePodInputs {
  ip: string;
  hostInterface: string;
  /** containerd's name for the pod's network namespace. */
  sandboxNetns: string;
}

const podFile = (i: KubePodInputs) => join(i.runDir, "pods", `${i.name}.yaml`);

/** The pod's sandbox network namespace on its node, from crictl (containerd's /var/run/netns/cni-…). */
async function sandboxNetns(i: KubePodInputs): Promise<string> {
  const id = (
    await run(
      onNode(i.hostNetns, [
        ...CRICTL,
        "pods",
        "-q",
        "--name",
        i.name,
        "--namespace",
        i.namespace,
        "--state",
        "ready",
      ]),
    )
  )
    .trim()
    .split("\n")[0];
  if (!id) throw new Error(`pod ${i.name}: crictl on ${i.host} lists no ready sandbox`);
  const info = JSON.parse(await run(onNode(i.hostNetns, [...CRICTL, "inspectp", id]))) as {
    info?: { runtimeSpec?: { linux?: { namespaces?: { type: string; path?: string }[] } } };
  };
  const path = info.info?.runtimeSpec?.linux?.namespaces?.find((n) => n.type === "network")?.path;
  const m = path ? /^\/(?:var\/)?run\/netns\/([A-Za-z0-9_.-]+)$/.exec(path) : null;
  if (!m)
    throw new Error(`pod ${i.name}: its sandbox's network namespace is not a named one (${path ?? "none"})`);
  return m[1]!;
}

/** The plan's name for the pod's namespace, on its node: a bind mount of containerd's, recorded as the node's. */
async function nameNetns(i: KubePodInputs, sandbox: string): Promise<void> {
  const host = hostOfNetns(i.hostNetns);
  const alias = `/run/netns/${assertNetnsName(i.netns)}`;
  await run(host.onHost(["touch", alias]));
  await run(host.onHost(["mount", "--bind", `/run/netns/${assertNetnsName(sandbox)}`, alias]));
  host.adopt(i.netns);
}

async function unnameNetns(i: KubePodInputs): Promise<void> {
  const host = hostOfNetns(i.hostNetns);
  const alias = `/run/netns/${assertNetnsName(i.netns)}`;
  await tryRun(host.onHost(["umount", alias]));
  await tryRun(host.onHost(["rm", "-f", alias]));
  host.forget(i.netns);
}

/**
 * The pod's address once it is Ready (asked every 3 s, after 30 s every 10 s: podPollMs); a pod that cannot start (an image the node lacks) or
 * is not Ready in time fails with what was expected, what it shows and its last event.
 */
async function readyAddress(i: KubePodInputs): Promise<string> {
  const started = Date.now();
  const until = started + scaledMs(600_000);
  for (;;) {
    const r = await tryKubectl(i.kubectl, ["-n", i.namespace, "get", "pod", i.name, "-o", "json"]);
    const progress: PodProgress =
      r.exitCode === 0
        ? podProgress(JSON.parse(r.stdout) as PodJson)
        : { kind: "waiting", seen: `kubectl get pod: ${r.stderr.trim().split("\n").at(-1) ?? ""}` };
    if (progress.kind === "ready") return progress.ip;
    if (progress.kind === "stuck" || Date.now() > until) {
      const ev = await tryKubectl(i.kubectl, [
        "-n",
        i.namespace,
        "get",
        "events",
        "--field-selector",
        `involvedObject.kind=Pod,involvedObject.name=${i.name}`,
        "-o",
        "json",
      ]);
      throw new Error(
        podWaitFailure({
          name: i.name,
          namespace: i.namespace,
          host: i.host,
          waitedS: Math.round((Date.now() - started) / 1000),
          seen: progress.seen,
          event: ev.exitCode === 0 ? lastEvent(JSON.parse(ev.stdout) as EventsJson) : undefined,
          stuck: progress.kind === "stuck",
          kubectlHint: `bash scripts/kubectl --stack ${basename(i.runDir)}`,
        }),
      );
    }
    await sleep(podPollMs(Date.now() - started));
  }
}

async function create(i: KubePodInputs): Promise<KubePodOutputs> {
  await mkdir(join(i.runDir, "pods"), { recursive: true });
  await writeFile(
    podFile(i),
    podManifest({
      name: i.name,
      namespace: i.namespace,
      node: i.host,
      image: i.image,
      server: i.server,
      port: i.serverPort,
    }),
  );
  await kubectlPatiently(i.kubectl, ["apply", "--validate=false", "-f", podFile(i)]);
  const ip = await readyAddress(i);
  const sandbox = await sandboxNetns(i);
  await nameNetns(i, sandbox);
  return { ...i, ip, hostInterface: vethName(i.namespace, i.name), sandboxNetns: sandbox };
}

async function remove(i: KubePodInputs): Promise<void> {
  await unnameNetns(i);
  // An API server under emulation may time out a delete (its etcd busy): asked again, as the delete is
  // idempotent; a cluster that is gone has no pod left to delete.
  await kubectlPatiently(
    i.kubectl,
    ["-n", i.namespace, "delete", "pod", i.name, "--ignore-not-found", "--wait=true"],
    scaledMs(600_000),
    (line) => process.stderr.write(`kubernetes: ${line}\n`),
    { gone: CLUSTER_GONE },
  );
  await rm(podFile(i), { force: true });
}

export const kubePodHandler: Handler<KubePodInputs, KubePodOutputs> = {
  replaceOn: ["name", "namespace", "host", "hostNetns", "netns", "image", "server", "serverPort", "runDir"],
  async create(inputs) {
    try {
      return { id: `${inputs.namespace}/${inputs.name}`, outs: await create(inputs) };
    } catch (e) {
      await remove(inputs).catch(() => undefined);
      throw e;
    }
  },
  async read(_id, props) {
    const r = await tryKubectl(props.kubectl, [
      "-n",
      props.namespace,
      "get",
      "pod",
      props.name,
      "-o",
      "jsonpath={.status.phase}",
    ]);
    return r.exitCode === 0 && r.stdout.trim() === "Running" ? props : undefined;
  },
  async delete(_id, props) {
    await remove(props);
  },
};
