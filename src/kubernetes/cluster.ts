// The kubeadm cluster's commands: init on the master, join on the workers, and kubectl. kubeadm runs on the
// node (its lab namespace, the host's mounts); kubectl runs on this machine, natively, from the lab's
// outside host's namespace (on the underlay, like an operator's laptop on the cluster's network) with the
// admin kubeconfig kubeadm wrote, copied into the run folder. Effects.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { inNetns, run, tryRun } from "../effects/exec.ts";
import { K8S_BIN_DIR, onNode } from "./node-runtime.ts";
import { scaledMs } from "../lab/timeouts.ts";
import type { LabPlan } from "../lab/topology.ts";

export const KUBECTL = join(K8S_BIN_DIR, "kubectl");
/** On the master: the admin kubeconfig kubeadm init writes. */
export const ADMIN_CONF = "/etc/kubernetes/admin.conf";
/** On the master: the cluster CA, whose key's hash a joining node checks. */
export const CA_CERT = "/etc/kubernetes/pki/ca.crt";

/** The admin kubeconfig's copy for this machine: `<stack run folder>/kubeconfig` (scripts/kubectl reads it). */
export const kubeconfigOf = (runDir: string) => join(runDir, "kubeconfig");

/** How kubectl reaches the cluster from here. */
export interface KubectlReach {
  /** A namespace of this machine on the underlay (the lab's outside host). */
  netns: string;
  kubeconfig: string;
}

/** Where kubectl runs (the lab's outside host's namespace) and the admin kubeconfig kubeadm init wrote. */
export function kubectlReach(plan: Pick<LabPlan, "outside">, runDir: string): KubectlReach {
  return { netns: plan.outside.netns, kubeconfig: kubeconfigOf(runDir) };
}

export function kubectlArgv(k: KubectlReach, args: readonly string[]): string[] {
  return inNetns(k.netns, [KUBECTL, "--kubeconfig", k.kubeconfig, ...args]);
}

export async function kubectl(
  k: KubectlReach,
  args: readonly string[],
  timeoutMs = scaledMs(120_000),
): Promise<string> {
  return run(kubectlArgv(k, args), { timeoutMs });
}

export async function tryKubectl(k: KubectlReach, args: readonly string[], timeoutMs = scaledMs(120_000)) {
  return tryRun(kubectlArgv(k, args), { timeoutMs });
}

/**
 * An API server answering slowly (emulated, busy): worth asking again, within the caller's deadline. A
 * connection dropped mid-answer counts too: CI's destroy failed once on `http2: client connection lost`
 * ("Please retry", kubectl says) for a pod's delete, which asking again completes.
 */
export const TRANSIENT =
  /context deadline exceeded|timeout|TLS handshake|connection refused|connection to the server \S+ was refused|EOF|ServiceUnavailable|the server is currently unable|etcdserver: request timed out|client connection lost|connection reset by peer/i;

/** What one kubectl run means for a caller that asks again: done, nothing there (the cluster is gone), again, or failed. */
export type KubectlOutcome = "ok" | "gone" | "again" | "failed";

/**
 * The outcome of one kubectl run: a transient error (TRANSIENT) is asked again while there is time; where the
 * caller accepts it (a delete during teardown), a cluster that is gone (`gone`) leaves nothing to do. Pure.
 */
export function kubectlOutcome(
  r: { exitCode: number; stderr: string },
  timeLeft: boolean,
  gone?: RegExp,
): KubectlOutcome {
  if (r.exitCode === 0) return "ok";
  if (gone?.test(r.stderr)) return "gone";
  return TRANSIENT.test(r.stderr) && timeLeft ? "again" : "failed";
}

/** How kubectlPatiently asks: when a cluster counts as gone, and the bounds of each attempt. */
export interface PatienceOptions {
  /** An error matching it (the cluster is gone) ends the call: what a delete during teardown needs. */
  gone?: RegExp;
  /** kubectl's own --request-timeout for each request ("0": none, for a watch); 120s unless told. */
  requestTimeout?: string;
  /** Each attempt's limit: a hung kubectl is killed (its error is not transient). */
  attemptMs?: number;
}

/**
 * kubectl, asked again while the API server answers with a transient error (TRANSIENT) until `deadlineMs`;
 * any other error, or the last one, throws. Its output, or null where `gone` matched.
 */
export async function kubectlPatiently(
  k: KubectlReach,
  args: readonly string[],
  deadlineMs = scaledMs(600_000),
  log: (line: string) => void = () => undefined,
  opts: PatienceOptions = {},
): Promise<string | null> {
  const until = Date.now() + deadlineMs;
  for (let attempt = 1; ; attempt++) {
    const r = await tryRun(kubectlArgv(k, [`--request-timeout=${opts.requestTimeout ?? "120s"}`, ...args]), {
      timeoutMs: opts.attemptMs ?? scaledMs(180_000),
    });
    const outcome = kubectlOutcome(r, Date.now() < until, opts.gone);
    if (outcome === "ok") return r.stdout;
    if (outcome === "gone") return null;
    if (outcome === "failed")
      throw new Error(`kubectl ${args.join(" ")} failed (attempt ${attempt}): ${r.stderr.trim()}`);
    const why = r.stderr.trim().split("\n").at(-1) ?? `exit ${r.exitCode}`;
    log(`kubectl ${args[0]}: the API server is slow (${why}); asking again`);
    await new Promise((res) => setTimeout(res, 5000));
  }
}

/** kubeadm's phases, each a line of its output: the progress a user sees while the control plane starts. */
function progress(log: (line: string) => void) {
  return (text: string) => {
    for (const l of text.split("\n")) if (/^\[[a-z-]+\]/.test(l)) log(l);
  };
}

/**
 * `kubeadm init` on the master or `kubeadm join` on a worker, with its config file (in the run folder: the
 * guest sees it at the same path); kubeadm's phase lines go to `log`.
 */
export async function kubeadm(
  verb: "init" | "join",
  netns: string,
  configPath: string,
  log: (line: string) => void,
): Promise<void> {
  const out = await run(onNode(netns, ["kubeadm", verb, "--config", configPath, "--v=1"]), {
    timeoutMs: scaledMs(verb === "init" ? 1_200_000 : 900_000),
  });
  progress(log)(out);
}

/** A file of the node, as text (the CA certificate, the admin kubeconfig). */
export async function readNodeFile(netns: string, path: string): Promise<string> {
  return run(onNode(netns, ["cat", path]));
}

/** The master's admin kubeconfig copied here, for kubectl from this machine. */
export async function copyKubeconfig(masterNetns: string, runDir: string): Promise<string> {
  const path = kubeconfigOf(runDir);
  await writeFile(path, await readNodeFile(masterNetns, ADMIN_CONF), { mode: 0o600 });
  return path;
}

/** What kubectl says when the cluster is gone (the lab is being destroyed): nothing left to delete there. */
export const CLUSTER_GONE = /connection refused|connection to the server \S+ was refused|Unable to connect/i;
