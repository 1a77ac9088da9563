// What every check gets: the plan, the pods, the deadline and the one retry rule, and what the lab's
// datastore and agents say, read once, when the first check asks (the datastore after the underlay is
// pinged, the agents' IP-in-IP claims after the daemons are ready, as before the registry).
import { dirname } from "node:path";
import { MODE_SPECS } from "../../modes.ts";
import type { HostPlan, LabPlan } from "../../lab/topology.ts";
import { sameSubnetHosts } from "../../lab/topology.ts";
import type { BgpSession } from "../bird.ts";
import { expectHost, type DatastoreFacts, type HostExpectation } from "../calico-rules.ts";
import type { CapturedPacket } from "../capture.ts";
import { readAgentClaim } from "../daemons.ts";
import type { RunningPod } from "../expectations.ts";
import { podPairModeFor, type PodPairMode } from "../pod-sample.ts";
import { readDatastore, type DatastoreRead } from "../snapshot.ts";

export interface VerifyOptions {
  deadlineMs?: number;
  /** The lab's run dir (etcd's pid file is there); default: the folder that holds the hosts' run dirs. */
  runDir?: string;
  /** Run dir per host: the agent's pid and status.json, BIRD's pid and control socket. */
  hostRunDir: (host: string) => string;
  /** A kubeadm lab's: the calico-node image the lab built (what every calico-node pod must run). */
  cluster?: { nodeImage: string };
}

/** A capture on the underlay during a pod ping: which pair, and the packet seen (if any). */
export interface Capture {
  from: string;
  to: string;
  packet?: CapturedPacket;
}

/** What the report keeps besides the checks; checks fill it in as they go. */
export interface Findings {
  bgp: Record<string, BgpSession[]>;
  routes: Record<string, string[]>;
  /** The routes each host had to have (from the datastore), kept so drift can be found later. */
  expectedRoutes: Record<string, string[]>;
  captures: Capture[];
  /** A kubeadm lab's `kubectl get nodes -o wide` and `kubectl get pods -A -o wide`, for the report. */
  kubectl?: { nodes: string; pods: string };
}

/** The datastore as the checks use it: the read, and per host what Calico's rules expect (or why not). */
export interface DatastoreView {
  read: DatastoreRead;
  facts?: DatastoreFacts;
  expect: ReadonlyMap<string, HostExpectation | string>;
  /** Whether BIRD runs on the host (Calico's rule; without the datastore, where the mode routes with BGP). */
  birdOn: (host: string) => boolean;
}

/** IP-in-IP this machine cannot do: why (undefined when it can), and which host pairs it blocks. */
export interface IpipView {
  skip?: string;
  /** Traffic between these hosts' namespaces needs IP-in-IP that this kernel cannot do. */
  blocked: (a: string, b: string) => boolean;
}

export interface CheckContext {
  plan: LabPlan;
  pods: readonly RunningPod[];
  deadlineMs: number;
  runDir: string;
  hostRunDir: (host: string) => string;
  /** All pairs, or the ring sample of a big lab (pod-sample.ts). */
  pairMode: PodPairMode;
  host: (name: string) => HostPlan;
  podNetns: (pod: string) => string;
  /** Ask again until `ok` or the deadline; the last answer either way. Nothing sleeps longer than 200 ms. */
  retry: <T>(fn: () => Promise<T>, ok: (t: T) => boolean) => Promise<T>;
  datastore: () => Promise<DatastoreView>;
  ipip: () => Promise<IpipView>;
  findings: Findings;
  cluster?: { nodeImage: string };
}

export async function retryUntil<T>(
  deadlineMs: number,
  fn: () => Promise<T>,
  ok: (t: T) => boolean,
): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const t = await fn();
    if (ok(t) || Date.now() >= end) return t;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** `fn` run once, on the first call; later calls get the same promise. */
function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

async function viewDatastore(plan: LabPlan): Promise<DatastoreView> {
  const read = await readDatastore(plan.etcd.clientNetns, plan.etcd.endpoint);
  const facts = read.ok ? read.facts : undefined;
  const expect = new Map<string, HostExpectation | string>();
  for (const h of plan.hosts) {
    try {
      if (facts) expect.set(h.name, expectHost(facts, h.name, h.ifname));
    } catch (e) {
      expect.set(h.name, (e as Error).message);
    }
  }
  const birdOn = (host: string) => {
    const e = expect.get(host);
    return e === undefined || typeof e === "string" ? MODE_SPECS[plan.mode].runsBgp : e.bird;
  };
  return { read, ...(facts ? { facts } : {}), expect, birdOn };
}

/**
 * Why IP-in-IP cannot be checked, or undefined when it can: what the agents themselves report. An agent
 * runs crosssubnet without tunl0 when its kernel has no ipip module and says so in status.json
 * (`degraded`); every other IPIP mode is refused at its preflight. Verification does not probe the kernel
 * again: it checks what the agents did.
 */
async function ipipSkipReason(
  plan: LabPlan,
  hostRunDir: (host: string) => string,
): Promise<string | undefined> {
  if (!MODE_SPECS[plan.mode].degradesWithout.includes("ipip")) return undefined;
  for (const h of plan.hosts) {
    const degraded = (await readAgentClaim(hostRunDir(h.name)))?.degraded?.[0];
    if (degraded) return `the agent on ${h.name} runs without IP-in-IP: ${degraded.split(";")[0]}`;
  }
  return undefined;
}

export function checkContext(plan: LabPlan, pods: readonly RunningPod[], opts: VerifyOptions): CheckContext {
  const deadlineMs = opts.deadlineMs ?? 10_000;
  const host = (name: string) => plan.hosts.find((h) => h.name === name)!;
  return {
    plan,
    pods,
    deadlineMs,
    runDir: opts.runDir ?? dirname(opts.hostRunDir(plan.hosts[0]!.name)),
    hostRunDir: opts.hostRunDir,
    pairMode: podPairModeFor(plan.hosts.length),
    host,
    podNetns: (name) => plan.pods.find((p) => p.name === name)!.netns,
    retry: (fn, ok) => retryUntil(deadlineMs, fn, ok),
    datastore: once(() => viewDatastore(plan)),
    ipip: once(async () => {
      const skip = await ipipSkipReason(plan, opts.hostRunDir);
      const blocked = (a: string, b: string) =>
        skip !== undefined && a !== b && !sameSubnetHosts(host(a), host(b));
      return { ...(skip !== undefined ? { skip } : {}), blocked };
    }),
    findings: { bgp: {}, routes: {}, expectedRoutes: {}, captures: [] },
    ...(opts.cluster ? { cluster: opts.cluster } : {}),
  };
}
