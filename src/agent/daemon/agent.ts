// The long-running calico-node: startup, then a reconcile loop driven by an etcd watch on /calico/
// (debounced) and a periodic resync. Each pass: tunnel addresses → snapshot → planDataplane → Felix's
// dataplane → bird.conf (when BIRD runs) → start BIRD / `birdc configure` when the file changed.
import { mkdir, readFile } from "node:fs/promises";
import { readAgentSettings } from "../../manifest/index.ts";
import { Datastore } from "../datastore/etcd.ts";
import { SnapshotCache } from "../datastore/snapshot-cache.ts";
import { kernelEventMatters, watchKernel, type KernelWatch } from "../felix/kernel-watch.ts";
import type { DatastoreSnapshot } from "../datastore/snapshot.ts";
import { readSnapshotKvs } from "../datastore/snapshot-read.ts";
import { watchPrefix, type PrefixWatch } from "../datastore/watch.ts";
import { runStartup, reconcileTunnel, type AgentSettings } from "../startup/node.ts";
import { settingsFromManifest } from "../startup/from-manifest.ts";
import { planDataplane, type DataplanePlan } from "../felix/plan.ts";
import { applyDataplane, interfaceWithAddress, type ApplyContext } from "../felix/dataplane.ts";
import { felixProgram } from "../felix/routes.ts";
import { LocalEndpoints, WORKLOAD_ENDPOINT_PREFIX } from "../felix/endpoints.ts";
import { planHost, type HostPlan } from "../felix/host.ts";
import { applyHost } from "../felix/dataplane-host.ts";
import { MODE_SPECS } from "../../modes.ts";
import { modeName, probeFeatures } from "../felix/probe.ts";
import { birdConfFor, writeIfChanged } from "../confd/confd.ts";
import { BirdSupervisor } from "../bird/supervisor.ts";
import { birdc, showProtocols } from "../bird/birdc.ts";
import { parseBirdProtocols } from "../status/node-status.ts";
import type { DaemonArgs } from "./args.ts";
import { LAUNCH_ENV, runFiles, writeStatus, type AgentStatus } from "./status.ts";

/** The socket path must fit a sockaddr_un (108 bytes with the NUL). */
const MAX_SOCKET_PATH = 100;

export class PreflightRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PreflightRefusal";
  }
}

export class Agent {
  private ds: Datastore | null = null;
  private watch: PrefixWatch | null = null;
  private resync: NodeJS.Timeout | null = null;
  private running = false;
  private inFlight: Promise<void> = Promise.resolve();
  private again = false;
  private stopped = false;
  private settings!: AgentSettings;
  private mtus: { ipip: number; vxlan: number } = { ipip: 1440, vxlan: 1410 };
  private ctx!: ApplyContext;
  private bird: BirdSupervisor;
  private status: Omit<AgentStatus, "updatedAt">;
  private tunnelKey = "";
  /** A pass asked for by the resync (or after an error) applies even when the inputs did not change. */
  private fullWanted = false;
  /** The snapshot (less its revision) of the last pass that applied, and its plan. */
  private appliedInputs = "";
  private appliedPlan: DataplanePlan | null = null;
  /** The plan and Felix program the dataplane last received in full (empty: unknown). */
  private appliedDataplane = "";
  /**
   * What passes read, kept by the watch: a pass woken by an event reads no etcd. Drops events that cannot
   * change a pass (pods' endpoints, allocations in a block).
   */
  private readonly cache = new SnapshotCache();
  /** This node's workload endpoints (their /32 routes and neighbours are the agent's to keep). */
  private endpoints!: LocalEndpoints;
  /** A pass asked for by a kernel change: applies from the copy held, without reading etcd. */
  private applyWanted = false;
  /** Underlay routes last reported as waiting for the interface (said once, not every pass). */
  private waitingSaid = "";
  /** Full reads of the snapshot (status.json): startup, resyncs, reconnects, tunnel address changes. */
  private reads = 0;
  private kernel: KernelWatch | null = null;
  /** Passes that applied, and passes that found the datastore's inputs unchanged (status.json). */
  private unchangedPasses = 0;
  private countersTimer: NodeJS.Timeout | null = null;
  /** The bird.conf text last written, and the text the running BIRD has loaded (null: unknown). */
  private birdWritten: string | null = null;
  private birdLoaded: string | null = null;
  readonly files: ReturnType<typeof runFiles>;
  passes = 0;

  constructor(
    readonly args: DaemonArgs,
    readonly netns: string,
    private readonly log: (m: string) => void,
  ) {
    this.files = runFiles(args.runDir, args.socketDir);
    this.status = {
      phase: "starting",
      node: args.nodeName,
      pid: process.pid,
      birdSocket: this.files.birdSocket,
      ...(process.env[LAUNCH_ENV] ? { launch: process.env[LAUNCH_ENV] } : {}),
    };
    this.bird = new BirdSupervisor(
      {
        config: this.files.birdConf,
        socket: this.files.birdSocket,
        pidFile: this.files.birdPid,
        logFile: this.files.birdLog,
      },
      log,
      (spawned) => {
        // A BIRD that just started read bird.conf as it is on disk now: the last text written.
        if (spawned) this.birdLoaded = this.birdWritten;
        void this.publish({});
      },
    );
  }

  private writes: Promise<void> = Promise.resolve();

  /** Updates status.json; writes are serialized (each one a whole file, renamed into place). */
  private publish(patch: Partial<AgentStatus>): Promise<void> {
    this.status = { ...this.status, ...patch };
    const pid = this.bird.pid;
    if (pid !== null) this.status.birdPid = pid;
    else delete this.status.birdPid;
    this.status.birdRestarts = this.bird.restarts;
    const snapshot = { ...this.status };
    this.writes = this.writes
      .then(() => writeStatus(this.args.runDir, snapshot))
      .catch((e: Error) => this.log(`status.json: ${e.message}`));
    return this.writes;
  }

  /** Startup and the first reconcile; throws (after writing phase "error") when the node cannot run. */
  async start(): Promise<void> {
    await mkdir(this.args.runDir, { recursive: true });
    if (this.args.socketDir) await mkdir(this.args.socketDir, { recursive: true });
    if (this.files.birdSocket.length > MAX_SOCKET_PATH)
      throw new Error(
        `run dir too long for BIRD's control socket (${this.files.birdSocket}); use a shorter path`,
      );
    await this.publish({ phase: "starting" });
    const manifest = readAgentSettings(await readFile(this.args.manifest, "utf8"), {
      subject: this.args.manifest,
    });
    this.settings = settingsFromManifest(manifest, {
      nodeName: this.args.nodeName,
      netns: this.netns,
      labels: this.args.labels,
      ...(this.args.etcdEndpoints ? { etcdEndpoints: this.args.etcdEndpoints } : {}),
      ...(this.args.rrClusterId ? { routeReflectorClusterID: this.args.rrClusterId } : {}),
    });
    this.endpoints = new LocalEndpoints(this.args.nodeName);
    this.mtus = { ipip: manifest.felix.ipipMtu, vxlan: manifest.felix.vxlanMtu };
    if (this.settings.etcd.endpoints.length === 0)
      throw new Error("no etcd endpoints (manifest etcd_endpoints or --etcd-endpoints)");

    // Preflight before anything is created: the manifest's mode needs these kernel features.
    const mode = modeName(manifest.pool);
    const needs = [...MODE_SPECS[mode].kernelFeatures];
    if (manifest.felix.ipipEnabled === true && !needs.includes("ipip")) needs.push("ipip");
    const probe = await probeFeatures(mode, needs);
    if (probe.refusals.length > 0) throw new PreflightRefusal(probe.refusals.join("\n"));
    for (const d of probe.degraded) this.log(`WARNING: ${d.message}`);
    const degraded = probe.degraded.map((d) => d.message);
    if (degraded.length > 0) await this.publish({ degraded });

    const result = await runStartup(this.settings, this.log);
    const ip = result.node.spec.bgp!.ipv4Address!;
    this.status.address = ip;
    this.ctx = {
      underlayIf: await interfaceWithAddress(ip.split("/")[0]!),
      log: this.log,
      ...(probe.degraded.some((d) => d.feature === "ipip") ? { noIpip: true } : {}),
    };
    this.log(
      `node ${this.args.nodeName} registered at ${ip} (underlay ${this.ctx.underlayIf}), mode ${mode}`,
    );

    this.ds = new Datastore({
      endpoints: this.settings.etcd.endpoints,
      ...(this.settings.etcd.tls ? { tls: this.settings.etcd.tls } : {}),
    });
    // Watch first, so that no change between the first snapshot and the watch is missed: events during
    // the first pass only mark "run again".
    this.running = true;
    this.watch = await watchPrefix(this.ds, "/calico/", () => this.kick(), {
      debounceMs: 75,
      relevant: (key, value, modRevision) => {
        if (LocalEndpoints.handles(key)) {
          const mine = this.endpoints.apply(key, value, modRevision);
          if (!mine) this.cache.ignored++;
          return mine;
        }
        const relevant = this.cache.apply(key, value, modRevision);
        if (!relevant) this.publishCounters();
        return relevant;
      },
      onReconnect: () => {
        this.cache.invalidate();
        void this.datastoreUp(true);
      },
      onError: (e) => {
        this.log(`watch: ${e.message}`);
        if (/^disconnected/.test(e.message)) void this.datastoreUp(false, e.message);
      },
    });
    try {
      await this.pass(true);
    } finally {
      this.running = false;
    }
    await this.publish({ phase: "ready" });
    this.log("ready");
    // Kernel changes (a route, address or device removed by hand, the underlay going down or up) wake
    // the agent at once, and the pass applies from what it holds (no etcd read); the resync is the
    // backstop for what the monitor does not see (iptables, sysctls, neighbours).
    this.kernel = watchKernel(() => this.kickDataplane(), {
      debounceMs: 100,
      relevant: kernelEventMatters,
      onError: (e) => this.log(`kernel watch: ${e.message}`),
    });
    this.resync = setInterval(() => this.kick(true), this.args.resyncMs);
    if (this.again) this.kick();
  }

  /**
   * Asks for a reconcile pass; passes never overlap, a request during one runs one more after it.
   * `full`: apply even if the datastore's inputs are those of the last applied pass (the resync repairs
   * drift in the dataplane; an event whose inputs changed nothing has nothing to apply).
   */
  kick(full = false): void {
    if (this.stopped) return;
    this.fullWanted ||= full;
    this.run();
  }

  /** A pass that applies the dataplane from the copy of the datastore held (a kernel change woke it). */
  kickDataplane(): void {
    if (this.stopped) return;
    this.applyWanted = true;
    this.run();
  }

  private run(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.inFlight = (async () => {
      try {
        do {
          this.again = false;
          const full = this.fullWanted;
          const apply = full || this.applyWanted;
          this.fullWanted = false;
          this.applyWanted = false;
          try {
            await this.pass(apply, full);
            if (this.status.lastError) await this.publish({ lastError: undefined });
          } catch (e) {
            const msg = (e as Error).message;
            if (this.stopped) break;
            if (msg !== this.status.lastError) this.log(`reconcile failed (retrying): ${msg}`);
            await this.publish({ lastError: msg });
            setTimeout(() => this.kick(true), 1000);
          }
        } while (this.again && !this.stopped);
      } finally {
        this.running = false;
      }
    })();
  }

  /**
   * One reconcile pass; unless `full`, none when the inputs are those of the last applied pass. `reread`
   * (default: `full`) reads the datastore in full first; otherwise the pass plans from the copy held.
   */
  async pass(full = true, reread = full): Promise<DataplanePlan> {
    const ds = this.ds!;
    const node = this.args.nodeName;
    let snap = reread || !this.cache.current ? await this.readSnapshot() : this.cache.snapshot();
    const inputs = JSON.stringify({ ...snap, revision: "", endpoints: this.endpoints.list() });
    if (!full && this.appliedPlan && inputs === this.appliedInputs && this.birdLoaded === this.birdWritten) {
      this.unchangedPasses++;
      this.publishCounters();
      return this.appliedPlan;
    }
    this.appliedInputs = "";
    // Tunnel addresses follow the pools (IPIP turned off → released, tunl0 removed below).
    const me = snap.nodes.find((n) => n.metadata.name === node);
    const key = JSON.stringify([snap.pools.map((p) => p.spec), me?.metadata.labels]);
    if (key !== this.tunnelKey) {
      const ipip = await ds.withRetry("IPIP tunnel address", () =>
        reconcileTunnel(ds, "ipip", node, this.log),
      );
      const vxlan = await ds.withRetry("VXLAN tunnel address", () =>
        reconcileTunnel(ds, "vxlan", node, this.log),
      );
      this.tunnelKey = key;
      const cur = me?.spec;
      if ((cur?.bgp?.ipv4IPIPTunnelAddr ?? null) !== ipip || (cur?.ipv4VXLANTunnelAddr ?? null) !== vxlan)
        snap = await this.readSnapshot();
      const patch: Partial<AgentStatus> = {
        ipipTunnelAddr: ipip ?? undefined,
        vxlanTunnelAddr: vxlan ?? undefined,
      };
      await this.publish(patch);
    }
    const plan = planDataplane(snap, node, this.mtus);
    // What the dataplane must hold follows from the plan and Felix's program. A pass woken by another
    // node's registration usually changes neither (in BGP mode BIRD carries the routes): then only
    // bird.conf is looked at, and no `ip`/`iptables` runs. A full pass (resync, kernel change) applies.
    const host = this.hostPlan(plan);
    const dataplane = JSON.stringify([plan, felixProgram(snap, plan, this.ctx.underlayIf), host]);
    if (full || dataplane !== this.appliedDataplane) {
      this.appliedDataplane = "";
      // The host's own address and routes first: the tunnels' routes and BIRD's go over them.
      await this.applyHost(host);
      await applyDataplane(snap, plan, this.ctx);
      this.appliedDataplane = dataplane;
    }
    if (plan.bird) {
      const conf = birdConfFor(snap, node);
      await writeIfChanged(this.files.birdConf, conf.text);
      this.birdWritten = conf.text;
      if (this.stopped) return plan;
      if (!this.bird.running) {
        // Adopted: its configuration may predate this agent, so reconfigure below on the next pass.
        if ((await this.bird.start()) === "adopted") this.birdLoaded = null;
      }
      if (this.bird.running && this.birdLoaded !== conf.text) {
        // Compared with what BIRD loaded, not with the file: a failed configure is retried next pass.
        const r = await this.bird.reconfigure();
        if (!r.ok) throw new Error(`birdc configure: ${r.text}`);
        this.birdLoaded = conf.text;
        this.log(`bird.conf (${conf.peers.length} peers): BIRD reconfigured`);
      }
    } else if (this.bird.running) {
      this.log("no pool needs BGP (VXLAN only): stopping BIRD");
      await this.bird.stop();
      await this.publish({});
    }
    this.passes++;
    this.appliedInputs = inputs;
    this.appliedPlan = plan;
    this.publishCounters();
    return plan;
  }

  /**
   * The datastore's reachability in status.json, as calico-node's readiness says: while etcd is away the
   * node is "unready" (what it programmed stays, BIRD keeps routing) and `lastError` names etcd.
   */
  private datastoreUp(up: boolean, why = ""): Promise<void> | undefined {
    if (this.stopped || this.status.phase === "starting") return;
    if (!up && this.status.phase === "ready") {
      const at = this.settings.etcd.endpoints.join(",");
      return this.publish({ phase: "unready", lastError: `etcd at ${at} is unreachable: watch ${why}` });
    }
    if (up && this.status.phase === "unready") return this.publish({ phase: "ready", lastError: undefined });
  }

  /** What the agent keeps on the host: its underlay address and routes, its workloads' routes. */
  private hostPlan(plan: DataplanePlan): HostPlan {
    return planHost({
      underlayIf: this.ctx.underlayIf,
      address: plan.address,
      underlayRoutes: this.args.underlayRoutes ?? [],
      endpoints: this.endpoints.list(),
      node: this.args.nodeName,
    });
  }

  private async applyHost(host: HostPlan): Promise<void> {
    const { changes, waiting } = await applyHost(host);
    if (changes.length > 0) this.log(`felix: restored ${changes.join("; ")}`);
    const said = waiting.join("; ");
    if (said && said !== this.waitingSaid)
      this.log(`felix: ${host.underlayIf} is down; its routes come back when it is up: ${said}`);
    // Up again with its routes: BGP sessions that went down meanwhile (hold time 9 s) would wait out
    // their error wait (up to 5 s) before connecting again; they try now.
    const back = this.waitingSaid !== "" && said === "";
    this.waitingSaid = said;
    if (back && this.bird.running) await this.retryBgpSessions(host.underlayIf);
  }

  /** `birdc restart` of every BGP session that is not Established. */
  private async retryBgpSessions(underlayIf: string): Promise<void> {
    const socket = this.files.birdSocket;
    const peers = parseBirdProtocols(await showProtocols(socket).catch(() => ""));
    const down = peers.filter((p) => !p.info.startsWith("Established")).map((p) => p.protocol);
    for (const p of down) await birdc(socket, ["restart", p]);
    if (down.length > 0)
      this.log(`felix: ${underlayIf} is up again: BGP sessions ${down.join(", ")} retried`);
  }

  /**
   * Reads the snapshot in full into the cache (which keeps events that arrive meanwhile), and this node's
   * workload endpoints at the same revision.
   */
  private async readSnapshot(): Promise<DatastoreSnapshot> {
    const ds = this.ds!;
    const read = await ds.withRetry("snapshot", () => readSnapshotKvs(ds), 10_000);
    const weps = await ds.withRetry(
      "workload endpoints",
      () => ds.client.getAll().prefix(WORKLOAD_ENDPOINT_PREFIX).revision(read.revision).exec(),
      10_000,
    );
    this.endpoints.load(
      read.revision,
      weps.kvs.map((kv) => ({
        key: kv.key.toString(),
        value: kv.value.toString(),
        modRevision: kv.mod_revision,
      })),
    );
    this.reads++;
    return this.cache.load(read);
  }

  /** The reconcile counters into status.json, at most once a second. */
  private publishCounters(): void {
    if (this.countersTimer || this.stopped) return;
    this.countersTimer = setTimeout(() => {
      this.countersTimer = null;
      if (this.stopped) return;
      void this.publish({
        reconcile: {
          passes: this.passes,
          unchangedPasses: this.unchangedPasses,
          ignoredEvents: this.cache.ignored,
          snapshotReads: this.reads,
        },
      });
    }, 1000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.resync) clearInterval(this.resync);
    if (this.countersTimer) clearTimeout(this.countersTimer);
    this.kernel?.close();
    await this.watch?.close().catch(() => undefined);
    // Let a pass in flight finish first: it could otherwise (re)start BIRD after BIRD was stopped.
    await Promise.race([this.inFlight, new Promise((r) => setTimeout(r, 5000))]);
    await this.bird.close();
    this.ds?.close();
    await this.publish({ phase: "stopped" });
  }

  /** After a failed start: nothing of ours keeps running; status.json says why. */
  async fail(e: Error): Promise<void> {
    this.stopped = true;
    if (this.resync) clearInterval(this.resync);
    if (this.countersTimer) clearTimeout(this.countersTimer);
    this.kernel?.close();
    await this.watch?.close().catch(() => undefined);
    await this.bird.close().catch(() => undefined);
    this.ds?.close();
    await this.publish({ phase: "error", error: e.message });
  }
}
