// The long-running calico-node daemon: startup (node-startup.ts), then a reconcile loop
// (reconcile-loop.ts) driven by an etcd watch on /calico/ (debounced), kernel changes and a periodic
// resync. Each pass: tunnel addresses → snapshot → planDataplane → the host's address and routes
// (host-keeper.ts) → Felix's dataplane → bird.conf, BIRD started or `birdc configure`d (bird-sync.ts).
// status.json says what it does (status-writer.ts).
import { Datastore } from "../datastore/etcd.ts";
import { kernelEventMatters, watchKernel, type KernelWatch } from "../felix/kernel-watch.ts";
import type { DatastoreSnapshot } from "../datastore/snapshot.ts";
import { watchPrefix, type PrefixWatch } from "../datastore/watch.ts";
import { reconcileTunnel, type AgentSettings } from "../startup/node.ts";
import { planDataplane, type DataplanePlan } from "../felix/plan.ts";
import { applyDataplane, type ApplyContext } from "../felix/dataplane.ts";
import { felixProgram } from "../felix/routes.ts";
import { planHost, type HostPlan } from "../felix/host.ts";
import { birdConfFor } from "../confd/confd.ts";
import type { DaemonArgs } from "./args.ts";
import { runFiles } from "./status.ts";
import { StatusWriter } from "./status-writer.ts";
import { ReconcileLoop } from "./reconcile-loop.ts";
import { BirdSync } from "./bird-sync.ts";
import { HostKeeper } from "./host-keeper.ts";
import { DatastoreView } from "./datastore-view.ts";
import { prepareRunDir, startNode } from "./node-startup.ts";
import { CniServer } from "../cni/server.ts";
import type { NetConf } from "../cni/args.ts";

export { PreflightRefusal } from "./node-startup.ts";

export class CalicoNodeDaemon {
  private ds: Datastore | null = null;
  private watch: PrefixWatch | null = null;
  private kernel: KernelWatch | null = null;
  private resync: NodeJS.Timeout | null = null;
  private stopped = false;
  private settings!: AgentSettings;
  private mtus: { ipip: number; vxlan: number } = { ipip: 1440, vxlan: 1410 };
  private ctx!: ApplyContext;
  private tunnelKey = "";
  /** The snapshot (less its revision) of the last pass that applied, and its plan. */
  private appliedInputs = "";
  private appliedPlan: DataplanePlan | null = null;
  /** The plan and Felix program the dataplane last received in full (empty: unknown). */
  private appliedDataplane = "";
  /** Passes that applied, and passes that found the datastore's inputs unchanged (status.json). */
  private passes = 0;
  private unchangedPasses = 0;
  readonly files: ReturnType<typeof runFiles>;
  private readonly bird: BirdSync;
  private readonly status: StatusWriter;
  private readonly loop: ReconcileLoop;
  private readonly host: HostKeeper;
  private readonly view: DatastoreView;
  private cni: CniServer | null = null;

  constructor(
    readonly args: DaemonArgs,
    readonly netns: string,
    private readonly log: (m: string) => void,
  ) {
    this.files = runFiles(args.runDir, args.socketDir);
    this.bird = new BirdSync(this.files, log, () => void this.status.publish({}));
    this.status = new StatusWriter({
      runDir: args.runDir,
      node: args.nodeName,
      birdSocket: this.files.birdSocket,
      bird: () => ({ pid: this.bird.pid, restarts: this.bird.restarts }),
      counters: () => ({
        passes: this.passes,
        unchangedPasses: this.unchangedPasses,
        ignoredEvents: this.view.ignored,
        snapshotReads: this.view.reads,
      }),
      log,
    });
    this.view = new DatastoreView(args.nodeName, () => this.status.publishCounters());
    this.host = new HostKeeper(log, () => (this.bird.running ? this.files.birdSocket : null));
    this.loop = new ReconcileLoop({
      pass: (r) => this.pass(r.apply, r.full),
      succeeded: async () => {
        if (this.status.current.lastError) await this.status.publish({ lastError: undefined });
      },
      failed: async (msg) => {
        if (msg !== this.status.current.lastError) this.log(`reconcile failed (retrying): ${msg}`);
        await this.status.publish({ lastError: msg });
      },
    });
  }

  /** Startup and the first reconcile; throws (after writing phase "error") when the node cannot run. */
  async start(): Promise<void> {
    await prepareRunDir(this.args, this.files.birdSocket);
    await this.status.publish({ phase: "starting" });
    const node = await startNode(this.args, this.netns, this.log, (p) => this.status.publish(p));
    this.settings = node.settings;
    this.mtus = node.mtus;
    this.ctx = node.ctx;
    this.status.note({ address: node.address });

    this.ds = new Datastore({
      endpoints: this.settings.etcd.endpoints,
      ...(this.settings.etcd.tls ? { tls: this.settings.etcd.tls } : {}),
    });
    // Watch first, so that no change between the first snapshot and the watch is missed: events during
    // the first pass only mark "run again".
    await this.loop.exclusive(async () => {
      this.watch = await watchPrefix(this.ds!, "/calico/", () => this.loop.kick(), {
        debounceMs: 75,
        relevant: (key, value, modRevision) => this.view.relevant(key, value, modRevision),
        onReconnect: () => {
          this.view.invalidate();
          void this.datastoreUp(true);
        },
        onError: (e) => {
          this.log(`watch: ${e.message}`);
          if (/^disconnected/.test(e.message)) void this.datastoreUp(false, e.message);
        },
      });
      await this.pass(true);
    });
    // Pods are wired once the node is: the CNI socket opens with the first pass applied.
    this.cni = new CniServer({
      socketPath: this.files.cniSocket,
      datastoreFor: (conf) => (this.namesOurEtcd(conf) ? (this.ds ?? undefined) : undefined),
      log: this.log,
    });
    await this.cni.start();
    await this.status.publish({ phase: "ready" });
    this.log("ready");
    // Kernel changes (a route, address or device removed by hand, the underlay going down or up) wake
    // the agent at once, and the pass applies from what it holds (no etcd read); the resync is the
    // backstop for what the monitor does not see (iptables, sysctls, neighbours).
    this.kernel = watchKernel(() => this.loop.kickDataplane(), {
      debounceMs: 100,
      relevant: kernelEventMatters,
      onError: (e) => this.log(`kernel watch: ${e.message}`),
    });
    this.resync = setInterval(() => this.loop.kick(true), this.args.resyncMs);
    this.loop.resume();
  }

  /**
   * One reconcile pass; unless `full`, none when the inputs are those of the last applied pass. `reread`
   * (default: `full`) reads the datastore in full first; otherwise the pass plans from the copy held.
   */
  async pass(full = true, reread = full): Promise<DataplanePlan> {
    const ds = this.ds!;
    let snap = await this.view.snapshot(ds, reread);
    const inputs = JSON.stringify({ ...snap, revision: "", endpoints: this.view.endpoints.list() });
    if (!full && this.appliedPlan && inputs === this.appliedInputs && this.bird.upToDate) {
      this.unchangedPasses++;
      this.status.publishCounters();
      return this.appliedPlan;
    }
    this.appliedInputs = "";
    if (await this.reconcileTunnels(snap)) snap = await this.view.read(ds);
    const plan = planDataplane(snap, this.args.nodeName, this.mtus);
    // What the dataplane must hold follows from the plan and Felix's program. A pass woken by another
    // node's registration usually changes neither (in BGP mode BIRD carries the routes): then only
    // bird.conf is looked at, and no `ip`/`iptables` runs. A full pass (resync, kernel change) applies.
    const host = this.hostPlan(plan);
    const dataplane = JSON.stringify([plan, felixProgram(snap, plan, this.ctx.underlayIf), host]);
    if (full || dataplane !== this.appliedDataplane) {
      this.appliedDataplane = "";
      // The host's own address and routes first: the tunnels' routes and BIRD's go over them.
      await this.host.apply(host);
      await applyDataplane(snap, plan, this.ctx);
      this.appliedDataplane = dataplane;
    }
    if (plan.bird) {
      await this.bird.apply(birdConfFor(snap, this.args.nodeName), () => this.stopped);
      if (this.stopped) return plan;
    } else if (await this.bird.stopIfRunning()) {
      await this.status.publish({});
    }
    this.passes++;
    this.appliedInputs = inputs;
    this.appliedPlan = plan;
    this.status.publishCounters();
    return plan;
  }

  /**
   * Tunnel addresses follow the pools and this node's labels (IPIP turned off → released, tunl0 removed
   * by the dataplane). Returns whether the node's addresses changed (the snapshot must be read again).
   */
  private async reconcileTunnels(snap: DatastoreSnapshot): Promise<boolean> {
    const ds = this.ds!;
    const node = this.args.nodeName;
    const me = snap.nodes.find((n) => n.metadata.name === node);
    const key = JSON.stringify([snap.pools.map((p) => p.spec), me?.metadata.labels]);
    if (key === this.tunnelKey) return false;
    const ipip = await ds.withRetry("IPIP tunnel address", () => reconcileTunnel(ds, "ipip", node, this.log));
    const vxlan = await ds.withRetry("VXLAN tunnel address", () =>
      reconcileTunnel(ds, "vxlan", node, this.log),
    );
    this.tunnelKey = key;
    const cur = me?.spec;
    const changed =
      (cur?.bgp?.ipv4IPIPTunnelAddr ?? null) !== ipip || (cur?.ipv4VXLANTunnelAddr ?? null) !== vxlan;
    await this.status.publish({ ipipTunnelAddr: ipip ?? undefined, vxlanTunnelAddr: vxlan ?? undefined });
    return changed;
  }

  /**
   * The datastore's reachability in status.json, as calico-node's readiness says: while etcd is away the
   * node is "unready" (what it programmed stays, BIRD keeps routing) and `lastError` names etcd.
   */
  private datastoreUp(up: boolean, why = ""): Promise<void> | undefined {
    const phase = this.status.current.phase;
    if (this.stopped || phase === "starting") return;
    if (!up && phase === "ready") {
      const at = this.settings.etcd.endpoints.join(",");
      return this.status.publish({
        phase: "unready",
        lastError: `etcd at ${at} is unreachable: watch ${why}`,
      });
    }
    if (up && phase === "unready") return this.status.publish({ phase: "ready", lastError: undefined });
  }

  /** What the agent keeps on the host: its underlay address and routes, its workloads' routes. */
  private hostPlan(plan: DataplanePlan): HostPlan {
    return planHost({
      underlayIf: this.ctx.underlayIf,
      address: plan.address,
      underlayRoutes: this.args.underlayRoutes ?? [],
      endpoints: this.view.endpoints.list(),
      node: this.args.nodeName,
    });
  }

  /** No more passes, timers or watches. */
  /** Whether a CNI call's network config names the etcd (and its TLS files) this agent is connected to. */
  private namesOurEtcd(conf: NetConf): boolean {
    const e = this.settings.etcd;
    const theirs = conf.etcd_endpoints
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean);
    return (
      theirs.join(",") === e.endpoints.join(",") &&
      (conf.etcd_ca_cert_file ?? "") === (e.tls?.caFile ?? "") &&
      (conf.etcd_cert_file ?? "") === (e.tls?.certFile ?? "") &&
      (conf.etcd_key_file ?? "") === (e.tls?.keyFile ?? "")
    );
  }

  private async quiesce(): Promise<void> {
    await this.cni?.stop().catch(() => undefined);
    this.stopped = true;
    this.loop.halt();
    this.status.close();
    if (this.resync) clearInterval(this.resync);
    this.kernel?.close();
    await this.watch?.close().catch(() => undefined);
  }

  async stop(): Promise<void> {
    await this.quiesce();
    // Let a pass in flight finish first: it could otherwise (re)start BIRD after BIRD was stopped.
    await this.loop.settled(5000);
    await this.bird.close();
    this.ds?.close();
    await this.status.publish({ phase: "stopped" });
  }

  /** After a failed start: nothing of ours keeps running; status.json says why. */
  async fail(e: Error): Promise<void> {
    await this.quiesce();
    await this.bird.close().catch(() => undefined);
    this.ds?.close();
    await this.status.publish({ phase: "error", error: e.message });
  }
}
