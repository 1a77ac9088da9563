// A routing lab in real namespaces, built the way the lab builds one: a switch namespace with a bridge,
// N hosts whose eth0 is a bridge port (address + default route), optionally a second subnet behind a
// router namespace, etcd on host 1, an agent per host via
// startAgent, pods via the CNI plugin. `teardown()` removes all of it (agents, BIRD, etcd, namespaces,
// files) and is safe to call after a partial setup.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { TestContext } from "node:test";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createNetns, setForwarding } from "../../../src/effects/netns.ts";
import { addAddress, createBridge, createVethPair } from "../../../src/effects/links.ts";
import { run, tryRun } from "../../../src/effects/exec.ts";
import { startEtcd, type EtcdServer } from "../../../src/agent/datastore/etcd-server.ts";
import type { DatastoreSnapshot } from "../../../src/agent/datastore/snapshot.ts";
import { snapshotFromKvs } from "../../../src/agent/datastore/snapshot-cache.ts";
import type { IPPool } from "../../../src/agent/datastore/keys.ts";
import { cniNetworkConfig, invokeCni, type PodRef } from "../../../src/agent/cni/invoke.ts";
import { expectedBlackholes, expectedRemoteRoutes } from "../../../src/agent/felix/plan.ts";
import { runFiles } from "../../../src/agent/daemon/status.ts";
import { captureDuring, classifyCapture, type CapturedPacket } from "../../../src/verify/capture.ts";
import { startAgent, stopAgent, type StartAgentOptions } from "../../../src/agent/daemon/launch.ts";
import { loadTemplate, PRESETS, renderManifest, type Mode } from "../../../src/manifest/index.ts";
import { removeNetnsWithPrefix, runPrefix } from "../../support/netns-scope.ts";

export const CALICOCTL = fileURLToPath(new URL("../../../scripts/calicoctl", import.meta.url));
export const POD_CIDR = "10.244.0.0/16";
export const UNDERLAY = "10.99.0";
/** A routed lab's second subnet (hosts from `routedFrom` on), behind the router namespace. */
export const FAR_UNDERLAY = "10.99.1";

export interface LabHost {
  name: string;
  netns: string;
  address: string;
  port: string;
  runDir: string;
  labels: Record<string, string>;
  rrClusterId?: string;
}

export interface LabPod extends PodRef {
  host: string;
  ip: string;
}

export interface RoutingLabOptions {
  tag: string;
  hosts: number;
  preset: Mode;
  /** Labels and RR cluster ids per host index. */
  hostExtras?: (i: number) => { labels?: Record<string, string>; rrClusterId?: string };
  /** How long startAgent waits for each agent to be ready (default 60 s; a VM under TCG needs more). */
  readyTimeoutMs?: number;
  /** The agents' periodic resync (default the daemon's 5 s; under TCG a resync pass itself takes seconds). */
  resyncMs?: number;
  /**
   * Routed underlay: hosts from this index on are in ${FAR_UNDERLAY}.0/24 on a second bridge (br1), and a
   * router namespace (<prefix>-rt, .1 in each subnet, forwarding, no pod routes) joins the two.
   */
  routedFrom?: number;
  /** Calls the CNI plugin (default invokeCni, which allows a plugin run 60 s). */
  invokeCni?: typeof invokeCni;
}

export class RoutingLab {
  readonly prefix: string;
  readonly switchNetns: string;
  readonly routerNetns: string;
  readonly hosts: LabHost[] = [];
  readonly pods: LabPod[] = [];
  dir = "";
  manifestPath = "";
  etcd: EtcdServer | null = null;
  endpoint: string;

  constructor(readonly o: RoutingLabOptions) {
    this.prefix = runPrefix(o.tag);
    this.switchNetns = `${this.prefix}-sw`;
    this.routerNetns = `${this.prefix}-rt`;
    this.endpoint = `http://${UNDERLAY}.11:2379`;
    for (let i = 0; i < o.hosts; i++) {
      const extra = o.hostExtras?.(i) ?? {};
      this.hosts.push({
        name: `node-${i + 1}`,
        netns: `${this.prefix}-h${i + 1}`,
        address: `${o.routedFrom !== undefined && i >= o.routedFrom ? FAR_UNDERLAY : UNDERLAY}.${11 + i}`,
        port: `port${i + 1}`,
        runDir: "",
        labels: extra.labels ?? {},
        ...(extra.rrClusterId ? { rrClusterId: extra.rrClusterId } : {}),
      });
    }
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

  /** Namespaces, underlay, etcd, manifest. Agents are started separately (startAgents). */
  async build(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), `cl-${this.o.tag}-`));
    await createNetns(this.switchNetns);
    await createBridge(this.switchNetns, "br0", 1500);
    const routed = this.o.routedFrom !== undefined;
    if (routed) {
      await createBridge(this.switchNetns, "br1", 1500);
      await createNetns(this.routerNetns);
      await setForwarding(this.routerNetns, true);
      for (const [i, net] of [UNDERLAY, FAR_UNDERLAY].entries()) {
        await createVethPair({
          netns: this.routerNetns,
          ifname: `eth${i}`,
          peerNetns: this.switchNetns,
          peerIfname: `router.${i}`,
          mtu: 1500,
          peerBridge: `br${i}`,
        });
        await addAddress(this.routerNetns, `eth${i}`, `${net}.1/24`);
      }
    }
    for (const h of this.hosts) {
      h.runDir = join(this.dir, h.name);
      const far = h.address.startsWith(`${FAR_UNDERLAY}.`);
      await createNetns(h.netns);
      await createVethPair({
        netns: h.netns,
        ifname: "eth0",
        peerNetns: this.switchNetns,
        peerIfname: h.port,
        mtu: 1500,
        peerBridge: far ? "br1" : "br0",
      });
      await addAddress(h.netns, "eth0", `${h.address}/24`);
      const via = this.defaultRoute(h).via;
      await run([
        "ip",
        "-n",
        h.netns,
        "route",
        "replace",
        "default",
        ...(via ? ["via", via] : []),
        "dev",
        "eth0",
      ]);
    }
    const text = renderManifest(loadTemplate("etcdv3"), {
      ...PRESETS[this.o.preset],
      etcdEndpoints: [this.endpoint],
      podCidr: POD_CIDR,
      autodetect: "interface=eth0",
    }).text;
    this.manifestPath = join(this.dir, "calico.yaml");
    await writeFile(this.manifestPath, text);
    this.etcd = await startEtcd({
      name: "master",
      dataDir: join(this.dir, "etcd"),
      address: this.hosts[0]!.address,
      netns: this.hosts[0]!.netns,
      logFile: join(this.dir, "etcd.log"),
    });
  }

  agentOptions(h: LabHost): StartAgentOptions {
    return {
      hostNetns: h.netns,
      manifestPath: this.manifestPath,
      nodeName: h.name,
      runDir: h.runDir,
      labels: h.labels,
      // The host's default route, as build() made it: the agent keeps it there.
      underlayRoutes: [this.defaultRoute(h)],
      // Generous: on a loaded 2-core machine five agents starting at once take a while.
      readyTimeoutMs: 60_000,
      ...(this.o.readyTimeoutMs ? { readyTimeoutMs: this.o.readyTimeoutMs } : {}),
      ...(this.o.resyncMs ? { resyncMs: this.o.resyncMs } : {}),
      ...(h.rrClusterId ? { rrClusterId: h.rrClusterId } : {}),
    };
  }

  /** A host's default route: straight out of eth0, or through the router on a routed underlay. */
  defaultRoute(h: LabHost): { to: string; via?: string } {
    if (this.o.routedFrom === undefined) return { to: "default" };
    return { to: "default", via: `${h.address.startsWith(`${FAR_UNDERLAY}.`) ? FAR_UNDERLAY : UNDERLAY}.1` };
  }

  async startAgents(): Promise<void> {
    // The first agent creates the default pool; the rest start together.
    await startAgent(this.agentOptions(this.hosts[0]!));
    await Promise.all(this.hosts.slice(1).map((h) => startAgent(this.agentOptions(h))));
  }

  /**
   * `perHost` pods on every host (or only on the hosts whose indexes `onHosts` lists), added with the CNI
   * plugin (one at a time per host, as a kubelet would).
   */
  async addPods(perHost: number, onHosts?: readonly number[]): Promise<void> {
    await Promise.all(
      this.hosts.map(async (h, hi) => {
        if (onHosts && !onHosts.includes(hi)) return;
        // Numbered after the host's pods so far: a second call adds pods instead of colliding.
        const first = this.pods.filter((p) => p.host === h.name).length;
        for (let k = first; k < first + perHost; k++) {
          const pod: PodRef = {
            hostNetns: h.netns,
            podNetns: `${this.prefix}-p${hi + 1}${k}`,
            namespace: "default",
            pod: `pod-${hi + 1}-${k}`,
            containerId: `${this.prefix}c${hi + 1}${k}`,
          };
          await createNetns(pod.podNetns);
          const res = await (this.o.invokeCni ?? invokeCni)(
            "ADD",
            pod,
            cniNetworkConfig({ etcdEndpoints: [this.endpoint], nodename: h.name }),
          );
          const ip = res!.ips[0]!.address.split("/")[0]!;
          this.pods.push({ ...pod, host: h.name, ip });
        }
      }),
    );
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
    for (const h of this.hosts) if (h.runDir) await stopAgent(h.runDir).catch(() => undefined);
    await this.etcd?.stop().catch(() => undefined);
    await removeNetnsWithPrefix(this.prefix);
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

/** invokeCni with 5 minutes for the plugin: under TCG the plugin's node process alone takes tens of seconds. */
export const invokeCniPatient = (
  command: "ADD" | "DEL" | "CHECK",
  pod: PodRef,
  config: Record<string, unknown>,
) => invokeCni(command, pod, config, 300_000);

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
