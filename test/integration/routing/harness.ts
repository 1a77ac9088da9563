// A routing lab in real namespaces, built by the lab's own plan and runner: the test's options as stack
// config (routing-plan.ts), planLab, labGraph without the verification, and runLab with the lab's handlers,
// except etcd and the agents, which the harness starts itself (an unsupervised etcd the tests kill and
// restart by hand; agents with the tests' ready and resync limits, restarted with agentOptions).
// `teardown()` removes all of it (agents, BIRD, etcd, namespaces, files) and is safe after a partial setup.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { TestContext } from "node:test";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run, tryRun } from "../../../src/effects/exec.ts";
import { startEtcd, type EtcdServer } from "../../../src/agent/datastore/etcd-server.ts";
import type { DatastoreSnapshot } from "../../../src/agent/datastore/snapshot.ts";
import { snapshotFromKvs } from "../../../src/agent/datastore/snapshot-cache.ts";
import type { IPPool } from "../../../src/agent/datastore/keys.ts";
import type { PodRef } from "../../../src/agent/cni/invoke.ts";
import { expectedBlackholes, expectedRemoteRoutes } from "../../../src/agent/felix/plan.ts";
import { runFiles } from "../../../src/agent/daemon/status.ts";
import { captureDuring, classifyCapture, type CapturedPacket } from "../../../src/verify/capture.ts";
import { startAgent, stopAgent, type StartAgentOptions } from "../../../src/agent/daemon/launch.ts";
import { loadTemplate, renderManifest } from "../../../src/manifest/index.ts";
import { EXTERNAL, labGraph, withoutNodes, type LabGraph, type LabNode } from "../../../src/lab/graph.ts";
import type { Handler } from "../../../src/lab/providers/handler.ts";
import { handlers } from "../../../src/lab/providers/handlers.ts";
import { runLab, type RunningLab } from "../../../src/lab/runner.ts";
import type { HostPlan, LabPlan } from "../../../src/lab/topology.ts";
import { removeNetnsWithPrefix, runPrefix } from "../../support/netns-scope.ts";
import { routingLabPlan, type RoutingLabOptions, type RoutingLabVariant } from "./routing-plan.ts";

export const CALICOCTL = fileURLToPath(new URL("../../../scripts/calicoctl", import.meta.url));

export interface LabHost {
  name: string;
  netns: string;
  address: string;
  /** Its bridge port in the switch namespace. */
  port: string;
  runDir: string;
  labels: Record<string, string>;
  rrClusterId?: string;
  /** The plan's host: its underlay routes. */
  plan: HostPlan;
}

export interface LabPod extends PodRef {
  host: string;
  ip: string;
}

export class RoutingLab {
  readonly prefix: string;
  readonly switchNetns: string;
  readonly routerNetns: string;
  /** The lab's outside host (${UNDERLAY}.200, no route to the pods), as the lab has it. */
  readonly outsideNetns: string;
  readonly hosts: LabHost[] = [];
  readonly pods: LabPod[] = [];
  dir = "";
  manifestPath = "";
  etcd: EtcdServer | null = null;
  endpoint: string;
  /** The plan of the lab so far (its pods: the ones added). */
  plan: LabPlan;
  /** What each runLab made, in order: torn down in reverse. */
  private readonly runs: RunningLab[] = [];

  constructor(readonly o: RoutingLabOptions) {
    this.prefix = runPrefix(o.tag);
    this.plan = this.planWith([]);
    this.switchNetns = this.plan.switchNetns;
    this.routerNetns = this.plan.router?.netns ?? `${this.prefix}-router`;
    this.outsideNetns = this.plan.outside.netns;
    this.endpoint = this.plan.etcd.endpoint;
    for (const h of this.plan.hosts)
      this.hosts.push({
        name: h.name,
        netns: h.netns,
        address: h.address,
        port: h.port,
        runDir: "",
        labels: h.labels,
        ...(h.rrClusterId ? { rrClusterId: h.rrClusterId } : {}),
        plan: h,
      });
  }

  /** The plan for these options and pods (and the variant the manifest and the pool come from). */
  private planWith(pods: { name: string; host: string }[]): LabPlan {
    const { plan, variant } = routingLabPlan(this.prefix, this.o, pods);
    this.variant = variant;
    return plan;
  }

  private variant?: RoutingLabVariant;

  /** The lab's graph for a plan, without the verification (the tests are the checks). */
  private graph(plan: LabPlan): LabGraph {
    const g = labGraph(plan, { variant: this.variant!.variant, runDir: this.dir, checksVersion: "" });
    return withoutNodes(g, (n) => n.kind === "verification");
  }

  /**
   * Runs the nodes of `graph` that `pick` selects with the lab's handlers (etcd and agents: the harness's),
   * everything made before taken as given.
   */
  private async runNodes(graph: LabGraph, pick: (n: LabNode) => boolean): Promise<void> {
    const external: Record<string, Record<string, unknown>> = {
      [EXTERNAL.manifest]: { path: this.manifestPath },
      [EXTERNAL.runFolder]: { path: this.dir },
    };
    for (const r of this.runs) for (const [name, outs] of r.outputs) external[name] = outs;
    const nodes = graph.nodes.filter((n) => pick(n) && !(n.name in external));
    this.runs.push(
      await runLab(
        { nodes },
        { handlers: { ...handlers, etcd: this.etcdHandler(), agent: this.agentHandler() }, external },
      ),
    );
  }

  /** etcd on host 1, unsupervised: a test kills it and starts it again on its data (this.etcd). */
  private etcdHandler(): Handler<Record<string, unknown>, Record<string, unknown>> {
    return {
      replaceOn: [],
      create: async (i) => {
        this.etcd = await startEtcd({
          name: "master",
          dataDir: join(this.dir, "etcd"),
          address: String(i.address),
          netns: String(i.netns),
          logFile: join(this.dir, "etcd.log"),
        });
        return { id: "etcd", outs: { ...i, endpoint: this.endpoint } };
      },
      read: async (_id, props) => props,
      delete: async () => {
        await this.etcd?.stop();
      },
    };
  }

  /** An agent per host, started as a test restarts one (agentOptions). */
  private agentHandler(): Handler<Record<string, unknown>, Record<string, unknown>> {
    return {
      replaceOn: [],
      create: async (i) => {
        const h = this.host(String(i.nodeName));
        h.runDir = String(i.runDir);
        await startAgent(this.agentOptions(h));
        return { id: h.name, outs: i };
      },
      read: async (_id, props) => props,
      delete: async (_id, props) => {
        await stopAgent(String(props.runDir));
      },
    };
  }

  /**
   * etcd listens only on host 1's lab address, which the root namespace cannot reach: the test reads
   * the datastore with etcdctl inside host 1's namespace.
   */
  async kvs(prefix: string): Promise<{ key: string; value: string }[]> {
    const out = await run([
      "ip", "netns", "exec", this.hosts[0]!.netns,
      "etcdctl", "--endpoints", this.endpoint, "get", "--prefix", prefix, "-w", "json",
    ]); // prettier-ignore
    const res = JSON.parse(out) as { kvs?: { key: string; value: string }[] };
    const b64 = (s: string) => Buffer.from(s, "base64").toString("utf8");
    return (res.kvs ?? []).map((kv) => ({ key: b64(kv.key), value: b64(kv.value) }));
  }

  async snapshot(): Promise<DatastoreSnapshot> {
    return snapshotFromKvs(await this.kvs("/calico/"));
  }

  async getJson<T>(key: string): Promise<T | null> {
    const [kv] = (await this.kvs(key)).filter((x) => x.key === key);
    return kv ? (JSON.parse(kv.value) as T) : null;
  }

  /** `calicoctl apply -f` inside host 1 (where etcd is reachable). */
  async calicoctl(args: string[], input?: string): Promise<string> {
    return run(["ip", "netns", "exec", this.hosts[0]!.netns, CALICOCTL, ...args], {
      env: { ETCD_ENDPOINTS: this.endpoint },
      ...(input !== undefined ? { input } : {}),
    });
  }

  /** Namespaces, underlay, etcd, the pool, manifest. Agents are started separately (startAgents). */
  async build(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), `cl-${this.o.tag}-`));
    for (const h of this.hosts) h.runDir = join(this.dir, h.name);
    // The manifest as the lab renders it from the same config (program.ts).
    this.manifestPath = join(this.dir, "calico.yaml");
    const v = this.variant!;
    const text = renderManifest(loadTemplate("etcdv3"), v.variant, {
      network: v.network,
      subject: `routing lab ${this.prefix}`,
    }).text;
    await writeFile(this.manifestPath, text);
    await this.runNodes(this.graph(this.plan), (n) => n.kind !== "agent" && n.kind !== "pod");
  }

  agentOptions(h: LabHost): StartAgentOptions {
    return {
      hostNetns: h.netns,
      manifestPath: this.manifestPath,
      nodeName: h.name,
      runDir: h.runDir,
      labels: h.labels,
      // The host's underlay routes, as the plan has them: the agent keeps them there.
      underlayRoutes: h.plan.routes,
      // Generous: on a loaded 2-core machine five agents starting at once take a while.
      readyTimeoutMs: 60_000,
      ...(this.o.readyTimeoutMs ? { readyTimeoutMs: this.o.readyTimeoutMs } : {}),
      ...(this.o.resyncMs ? { resyncMs: this.o.resyncMs } : {}),
      ...(h.rrClusterId ? { rrClusterId: h.rrClusterId } : {}),
    };
  }

  /** Every agent at once (the lab applied the pool before them). */
  async startAgents(): Promise<void> {
    await this.runNodes(this.graph(this.plan), (n) => n.kind === "agent");
  }

  /**
   * `perHost` pods on every host (or only on the hosts whose indexes `onHosts` lists), added with the lab's
   * pod handler (the CNI plugin, as a kubelet would).
   */
  async addPods(perHost: number, onHosts?: readonly number[]): Promise<void> {
    const added: { name: string; host: string }[] = [];
    this.hosts.forEach((h, hi) => {
      if (onHosts && !onHosts.includes(hi)) return;
      // Numbered after the host's pods so far: a second call adds pods instead of colliding.
      const first = this.pods.filter((p) => p.host === h.name).length;
      for (let k = first; k < first + perHost; k++) added.push({ name: `pod-${hi + 1}-${k}`, host: h.name });
    });
    const all = [...this.plan.pods.map((p) => ({ name: p.name, host: p.host })), ...added];
    this.plan = this.planWith(all);
    const names = new Set(added.map((p) => p.name));
    await this.runNodes(this.graph(this.plan), (n) => n.kind === "pod" && names.has(n.name));
    const outputs = this.runs.at(-1)!.outputs;
    for (const p of this.plan.pods.filter((x) => names.has(x.name)))
      this.pods.push({
        hostNetns: p.hostNetns,
        podNetns: p.netns,
        namespace: p.namespace,
        pod: p.name,
        containerId: p.containerId,
        host: p.host,
        ip: String(outputs.get(p.name)!.ip),
      });
    this.pods.sort((a, b) => a.pod.localeCompare(b.pod));
  }

  /**
   * The default pool with `spec` merged in, applied like `calicoctl apply -f -` (a mode change on the
   * running lab: the agents follow it from the datastore).
   */
  async applyPool(spec: Partial<IPPool["spec"]>): Promise<IPPool> {
    const [pool] = (await this.snapshot()).pools;
    if (!pool) throw new Error("no IPPool in the datastore");
    const next: IPPool = { ...pool, spec: { ...pool.spec, ...spec } };
    await this.calicoctl(["apply", "-f", "-"], JSON.stringify(next));
    return next;
  }

  host(name: string): LabHost {
    return this.hosts.find((h) => h.name === name)!;
  }

  /** Every pod pings every other pod (in parallel per source); returns the failures. */
  async pingMatrix(count = 1, timeoutS = 2): Promise<string[]> {
    const failures: string[] = [];
    await Promise.all(
      this.pods.map(async (src) => {
        for (const dst of this.pods) {
          if (dst === src) continue;
          const r = await ping(src.podNetns, dst.ip, count, timeoutS);
          if (!r) failures.push(`${src.pod} (${src.ip}) → ${dst.pod} (${dst.ip})`);
        }
      }),
    );
    return failures.sort();
  }

  /**
   * The pod-CIDR routes a host must have, from the datastore (remote blocks per mode, own blocks as
   * blackholes), sorted; `keep` drops lines this kernel cannot have (e.g. through tunl0 without ipip).
   */
  async expectedRouteLines(h: LabHost, keep: (line: string) => boolean = () => true): Promise<string[]> {
    const snap = await this.snapshot();
    return [
      ...expectedRemoteRoutes(snap, h.name, "eth0").map((r) => r.line),
      ...expectedBlackholes(snap, h.name),
    ]
      .filter(keep)
      .sort();
  }

  /** Whether every host's pod-CIDR routes are exactly the expected ones. */
  async routesAsExpected(keep?: (line: string) => boolean): Promise<boolean> {
    for (const h of this.hosts) {
      const want = await this.expectedRouteLines(h, keep);
      if (JSON.stringify(want) !== JSON.stringify((await this.podRoutes(h)).sort())) return false;
    }
    return true;
  }

  /**
   * Pings from `src` to `dst` (2 echoes) with tcpdump on `bridge` in the switch namespace; asserts a reply
   * and returns the classified request frame (each captured line is a test diagnostic).
   */
  async capturePing(
    t: TestContext,
    bridge: string,
    src: LabPod,
    dst: LabPod,
  ): Promise<CapturedPacket | undefined> {
    let ok = false;
    const lines = await captureDuring(
      this.switchNetns,
      bridge,
      async () => {
        ok = await ping(src.podNetns, dst.ip, 2, 5);
      },
      { settleMs: 500 },
    );
    for (const l of lines) t.diagnostic(`tcpdump ${bridge}: ${l}`);
    assert.ok(ok, `${src.pod} → ${dst.pod} during the capture`);
    return classifyCapture(lines, src.ip, dst.ip);
  }

  /** The agents' logs on stderr (inside a VM the run folder is lost at power off). */
  async dumpAgentLogs(last = 80): Promise<void> {
    for (const h of this.hosts) {
      if (!h.runDir) continue;
      const text = await readFile(runFiles(h.runDir).agentLog, "utf8").catch(() => "(no log)");
      const lines = text.trimEnd().split("\n");
      process.stderr.write(`--- ${h.name} agent.log (${lines.length} lines, last ${last}) ---\n`);
      process.stderr.write(lines.slice(-last).join("\n") + "\n");
    }
  }

  /** `ip route` lines in a host for destinations inside the pod CIDR. */
  async podRoutes(h: LabHost): Promise<string[]> {
    const out = await run(["ip", "-n", h.netns, "route", "show"]);
    return out
      .split("\n")
      .map((l) => l.trim().replace(/\s+/g, " "))
      .filter((l) => /(^|\s)10\.244\./.test(l) && !/ dev cali/.test(l));
  }

  /** build → agents → pods, each step announced to `mark`; a failure anywhere tears down what was made. */
  async up(
    perHost: number,
    onHosts?: readonly number[],
    mark: (step: string) => void = () => {},
  ): Promise<void> {
    try {
      await this.build();
      mark("namespaces, underlay and etcd up");
      await this.startAgents();
      mark(`${this.hosts.length} agents ready`);
      await this.addPods(perHost, onHosts);
      mark(`${this.pods.length} pods added`);
    } catch (e) {
      await this.teardown();
      throw e;
    }
  }

  async teardown(): Promise<void> {
    // What each run made, the last run's first; whatever is left after a failure goes with the namespaces.
    for (const r of this.runs.splice(0).reverse()) await r.teardown().catch(() => undefined);
    for (const h of this.hosts) if (h.runDir) await stopAgent(h.runDir).catch(() => undefined);
    await this.etcd?.stop().catch(() => undefined);
    await removeNetnsWithPrefix(this.prefix);
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

export async function ping(netns: string, ip: string, count = 1, timeoutS = 2): Promise<boolean> {
  const r = await tryRun([
    "ip",
    "netns",
    "exec",
    netns,
    "ping",
    "-n",
    "-q",
    "-c",
    String(count),
    "-W",
    String(timeoutS),
    ip,
  ]);
  return r.exitCode === 0;
}

/** Polls `fn` until it returns true or `ms` pass; returns how long it took, or throws with `what`. */
export async function waitFor(
  what: string,
  fn: () => Promise<boolean>,
  ms: number,
  stepMs = 100,
): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await fn()) return Date.now() - t0;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export interface Capture {
  /** Stops after `count` packets or the timeout; resolves with tcpdump's text output (-e -nn). */
  done: Promise<string>;
}

/**
 * tcpdump in `netns` on `ifname` (-e: link-level header, -nn: numbers), at most `count` packets or
 * `timeoutS` seconds. Resolves once tcpdump is listening (so traffic sent afterwards is seen).
 */
export async function startCapture(
  netns: string,
  ifname: string,
  filter: string[],
  count: number,
  timeoutS: number,
): Promise<Capture> {
  const { spawn } = await import("node:child_process");
  const child = spawn(
    "timeout",
    [
      String(timeoutS),
      "ip",
      "netns",
      "exec",
      netns,
      "tcpdump",
      "-l",
      "-e",
      "-nn",
      "-i",
      ifname,
      "-c",
      String(count),
      ...filter,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const listening = new Promise<void>((resolve) => {
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
      if (/listening on/.test(err)) resolve();
    });
    child.once("exit", () => resolve());
  });
  const done = new Promise<string>((resolve) => child.once("exit", () => resolve(out)));
  await listening;
  return { done };
}
