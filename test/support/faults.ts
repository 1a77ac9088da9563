// The faults of issue 14 and how one is measured: pod↔pod pings every 50 ms across nodes (busybox-1 on
// worker-1 → busybox-2 on worker-2) while the fault is injected; the time until the fault's own recovery
// condition holds; then, if the lab did not recover, a restore (by hand for routes, `pulumi up --refresh`
// for the rest) so the next fault starts from a healthy lab. Shared by bench/faults.ts and the fault tests.
import { tryRun } from "../../src/effects/exec.ts";
import { netnsExists } from "../../src/effects/netns.ts";
import {
  agentReady,
  birdReady,
  daemonLabel,
  daemonPids,
  defaultRoute,
  echoReady,
  etcdReady,
  healthProblems,
  hostOf,
  ipamCheck,
  kill9,
  podAddress,
  podOf,
  pingOnce,
  restartEchoByHand,
  restoreRoutes,
  takeBaseline,
  workloadRoute,
  type Baseline,
  type Daemon,
  type IpamVerdict,
  type Lab,
} from "./faults-lab.ts";
import type { Loss } from "./faults-loss.ts";
import { PodPinger, pollUntil } from "./faults-probe.ts";
import type { UpSummary } from "./lab-stack.ts";

export const PROBE_FROM = "busybox-1"; // on worker-1
export const PROBE_TO = "busybox-2"; // on worker-2
export const FAULT_HOST = "worker-1";
/** A pod on the fault host other than the probe's, for the deleted-namespace fault. */
export const SPARE_POD = "busybox-3";
export const ECHO_POD = "echo";
export const LINK_DOWN_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface FaultContext {
  lab: Lab;
  baseline: Baseline;
  pinger: PodPinger;
}

export interface Injected {
  /** Recovery is timed from here (ms since the epoch): the kill, the delete; for a link flap, link up. */
  from: number;
  recovered: () => Promise<boolean>;
  /** What was done, for the report ("pid 1234"). */
  detail: string;
  /** For a daemon fault: the pid killed (a restarted one differs). */
  killed?: number;
}

export interface Fault {
  id: string;
  title: string;
  /** What "recovered" means for it. */
  condition: string;
  daemon?: Daemon;
  inject(c: FaultContext): Promise<Injected>;
}

async function killOne(c: FaultContext, d: Daemon): Promise<{ pid: number; at: number }> {
  const pids = await daemonPids(c.lab, d);
  if (pids.length !== 1)
    throw new Error(`expected one ${daemonLabel(d)} process, found ${pids.length}: ${pids.join(" ")}`);
  const at = Date.now();
  kill9(pids);
  return { pid: pids[0]!, at };
}

const agent: Daemon = { kind: "agent", host: FAULT_HOST };
const bird: Daemon = { kind: "bird", host: FAULT_HOST };
const etcd: Daemon = { kind: "etcd" };
const echo: Daemon = { kind: "echo", pod: ECHO_POD };

/** kill -9 of a daemon's one process; recovered when `recovered` says a new one (not `killed`) is ready. */
function killFault(
  f: Pick<Fault, "id" | "title" | "condition"> & { daemon: Daemon },
  recovered: (c: FaultContext, killed: number) => Promise<boolean>,
): Fault {
  return {
    ...f,
    async inject(c) {
      const k = await killOne(c, f.daemon);
      return { from: k.at, killed: k.pid, detail: `pid ${k.pid}`, recovered: () => recovered(c, k.pid) };
    },
  };
}

/** Deletes a route (a baseline `ip route` line) on the fault host; returns when it was deleted. */
async function deleteRoute(c: FaultContext, line: string): Promise<number> {
  const ns = hostOf(c.lab, FAULT_HOST).namespace;
  const from = Date.now();
  const r = await tryRun(["ip", "-n", ns, "route", "del", ...line.split(/\s+/).filter(Boolean)]);
  if (r.exitCode !== 0) throw new Error(`route del failed: ${r.stderr}`);
  return from;
}

export const FAULTS: readonly Fault[] = [
  killFault(
    {
      id: "agent",
      title: `kill -9 calico-node (${FAULT_HOST})`,
      condition: "a new agent process, status ready",
      daemon: agent,
    },
    (c, pid) => agentReady(c.lab, FAULT_HOST, pid),
  ),
  killFault(
    {
      id: "bird",
      title: `kill -9 BIRD (${FAULT_HOST})`,
      condition: "a new BIRD, all BGP sessions Established, its routes back",
      daemon: bird,
    },
    (c, pid) => birdReady(c.lab, FAULT_HOST, c.baseline.birdRoutes[FAULT_HOST] ?? 0, pid),
  ),
  killFault(
    { id: "etcd", title: "kill -9 etcd", condition: "a new etcd, endpoint healthy", daemon: etcd },
    (c, pid) => etcdReady(c.lab, pid),
  ),
  killFault(
    {
      id: "echo",
      title: "kill -9 echo server",
      condition: "a new echo server answering HTTP from busybox-1",
      daemon: echo,
    },
    (c, pid) => echoReady(c.lab, ECHO_POD, PROBE_FROM, pid),
  ),
  {
    id: "link-flap",
    title: `link flap: eth0 of ${FAULT_HOST} down ${LINK_DOWN_MS / 1000} s`,
    condition: "after link up: default route back and a pod reply",
    async inject(c) {
      const ns = hostOf(c.lab, FAULT_HOST).namespace;
      const down = await tryRun(["ip", "-n", ns, "link", "set", "dev", "eth0", "down"]);
      if (down.exitCode !== 0) throw new Error(`link down failed: ${down.stderr}`);
      await sleep(LINK_DOWN_MS);
      const up = await tryRun(["ip", "-n", ns, "link", "set", "dev", "eth0", "up"]);
      if (up.exitCode !== 0) throw new Error(`link up failed: ${up.stderr}`);
      const from = Date.now();
      return {
        from,
        detail: "eth0 down, up",
        recovered: async () =>
          (await defaultRoute(c.lab, FAULT_HOST)) !== undefined && c.pinger.lastReplyAt > from,
      };
    },
  },
  {
    id: "workload-route",
    title: `delete ${PROBE_FROM}'s /32 route on ${FAULT_HOST}`,
    condition: "the /32 route back and a pod reply",
    async inject(c) {
      const line = c.baseline.workloadRoutes[PROBE_FROM];
      if (!line) throw new Error(`no /32 route of ${PROBE_FROM} in the baseline`);
      const from = await deleteRoute(c, line);
      return {
        from,
        detail: line,
        recovered: async () =>
          (await workloadRoute(c.lab, PROBE_FROM)) !== undefined && c.pinger.lastReplyAt > from,
      };
    },
  },
  {
    id: "default-route",
    title: `delete ${FAULT_HOST}'s default route`,
    condition: "the default route back",
    async inject(c) {
      const line = c.baseline.defaultRoutes[FAULT_HOST];
      if (!line) throw new Error(`no default route of ${FAULT_HOST} in the baseline`);
      const from = await deleteRoute(c, line);
      return {
        from,
        detail: line,
        recovered: async () => (await defaultRoute(c.lab, FAULT_HOST)) !== undefined,
      };
    },
  },
  {
    id: "pod-netns",
    title: `delete pod ${SPARE_POD}'s network namespace`,
    condition: "the pod's namespace back with an address, reachable from busybox-1",
    async inject(c) {
      const ns = podOf(c.lab, SPARE_POD).namespace;
      const from = Date.now();
      const r = await tryRun(["ip", "netns", "delete", ns]);
      if (r.exitCode !== 0) throw new Error(`netns delete failed: ${r.stderr}`);
      return {
        from,
        detail: ns,
        recovered: async () => {
          if (!(await netnsExists(ns))) return false;
          const ip = await podAddress(c.lab, SPARE_POD);
          return ip !== undefined && (await pingOnce(podOf(c.lab, PROBE_FROM).namespace, ip));
        },
      };
    },
  },
];

export function faultById(id: string): Fault {
  const f = FAULTS.find((x) => x.id === id);
  if (!f) throw new Error(`no fault "${id}"; faults: ${FAULTS.map((x) => x.id).join(", ")}`);
  return f;
}

export interface FaultResult {
  fault: Fault;
  detail: string;
  loss: Loss;
  /** From the fault (or link up) to its recovery condition; null: not within `withinMs`. */
  recoveredMs: number | null;
  withinMs: number;
  /** How the lab was brought back when it did not recover by itself (null: it did). */
  restored: string | null;
  ipam: IpamVerdict;
  /** When the fault was injected (for a link flap: link up), ms since the epoch. */
  from: number;
  killed?: number;
}

/**
 * One lab under test: the lab as its outputs say, what healthy looks like, and how to restore it
 * (`pulumi up --refresh`, given by the caller). Faults run one at a time, each from a healthy lab.
 */
export class FaultSession {
  constructor(
    public lab: Lab,
    public baseline: Baseline,
    private readonly upRefresh: () => Promise<UpSummary>,
    private readonly log: (m: string) => void = () => undefined,
  ) {}

  static async start(lab: Lab, upRefresh: () => Promise<UpSummary>, log?: (m: string) => void) {
    return new FaultSession(lab, await takeBaseline(lab), upRefresh, log);
  }

  /**
   * Back to healthy (given `settleMs` to get there by itself first): missing routes re-added by hand (from the baseline's lines), then, if anything is
   * still wrong, `pulumi up --refresh`. Returns what it did (null: nothing was needed). Throws if the lab
   * is still unhealthy after that.
   */
  async restore(settleMs = 0): Promise<string | null> {
    let problems: string[] = [];
    const ping = () => pingOnce(podOf(this.lab, PROBE_FROM).namespace, podOf(this.lab, PROBE_TO).ip);
    // Whatever restarts a daemon (with backoff) gets `settleMs` to do it before anything is done by hand.
    const healthy = await pollUntil(
      async () => (problems = await healthProblems(this.lab, this.baseline)).length === 0 && (await ping()),
      Date.now() + settleMs,
      100,
    );
    if (healthy !== null) return null;
    const did: string[] = [];
    const routes = await restoreRoutes(this.lab, this.baseline);
    if (routes.length > 0) did.push(`re-added by hand: ${routes.join("; ")}`);
    for (const pod of this.baseline.echoPods) {
      if ((await daemonPids(this.lab, { kind: "echo", pod })).length > 0) continue;
      await restartEchoByHand(this.lab, pod);
      did.push(`echo server ${pod} started by hand`);
    }
    problems = await healthProblems(this.lab, this.baseline);
    if (problems.length > 0 || !(await ping())) {
      this.log(`restoring with pulumi up --refresh: ${problems.join("; ") || "no pod reply"}`);
      const up = await this.upRefresh();
      did.push(`pulumi up --refresh (${(up.durationMs / 1000).toFixed(1)} s): ${up.text}`);
      if (up.lab) {
        this.lab = up.lab;
        this.baseline = { ...(await takeBaseline(up.lab)), podIps: this.baseline.podIps };
      }
      problems = await healthProblems(this.lab, this.baseline);
      if (problems.length > 0)
        throw new Error(`lab still unhealthy after ${did.join("; ")}: ${problems.join("; ")}`);
    }
    return did.join("; ");
  }

  /** A pinger across nodes, once it answers steadily. */
  async steadyPinger(): Promise<PodPinger> {
    const pinger = new PodPinger(podOf(this.lab, PROBE_FROM).namespace, podOf(this.lab, PROBE_TO).ip);
    if (!(await pinger.waitConsecutive(10, Date.now() + 10_000))) {
      await pinger.stop();
      throw new Error(
        `no steady replies ${PROBE_FROM} -> ${PROBE_TO} before the fault:\n${pinger.output.slice(-600)}`,
      );
    }
    return pinger;
  }

  /**
   * Injects the fault with pings running, waits up to `withinMs` for its recovery condition, restores
   * the lab if it did not recover, and measures the pod traffic lost over the whole episode.
   * `whileFaulted` runs right after the injection, before recovery is awaited (a check while it is down).
   */
  async run(
    fault: Fault,
    withinMs: number,
    whileFaulted?: (inj: Injected) => Promise<void>,
  ): Promise<FaultResult> {
    const pinger = await this.steadyPinger();
    try {
      const fromSeq = pinger.lastSeq + 1;
      const inj = await fault.inject({ lab: this.lab, baseline: this.baseline, pinger });
      if (whileFaulted) await whileFaulted(inj);
      const at = await pollUntil(inj.recovered, inj.from + withinMs, 20);
      const recoveredMs = at === null ? null : at - inj.from;
      this.log(
        `${fault.id}: ${recoveredMs === null ? `not recovered within ${withinMs} ms` : `recovered in ${recoveredMs} ms`}`,
      );
      let restored: string | null = null;
      if (recoveredMs === null) restored = (await this.restore()) ?? "nothing needed after the deadline";
      // The probes after recovery: the outage is over once replies run steadily again.
      await pinger.waitConsecutive(10, Date.now() + 10_000);
      const loss = await pinger.loss(fromSeq);
      return {
        fault,
        detail: inj.detail,
        loss,
        recoveredMs,
        withinMs,
        restored,
        ipam: await ipamCheck(this.lab, this.baseline.podIps),
        from: inj.from,
        ...(inj.killed !== undefined ? { killed: inj.killed } : {}),
      };
    } finally {
      await pinger.stop();
    }
  }
}

/** The loss meter's own check: the probed pod drops ICMP for exactly `ms` (iptables in its namespace). */
export async function controlledOutage(lab: Lab, ms: number): Promise<{ heldMs: number }> {
  const ns = podOf(lab, PROBE_TO).namespace;
  const rule = ["INPUT", "-p", "icmp", "--icmp-type", "echo-request", "-j", "DROP"];
  const add = await tryRun(["ip", "netns", "exec", ns, "iptables", "-w", "-I", ...rule]);
  if (add.exitCode !== 0) throw new Error(`iptables -I failed in ${ns}: ${add.stderr}`);
  const t0 = Date.now();
  await sleep(ms);
  const del = await tryRun(["ip", "netns", "exec", ns, "iptables", "-w", "-D", ...rule]);
  const heldMs = Date.now() - t0;
  if (del.exitCode !== 0) throw new Error(`iptables -D failed in ${ns}: ${del.stderr}`);
  return { heldMs };
}

/** The calibration run: a fault of exactly `ms`, measured like the others. */
export const calibration = (ms: number): Fault => ({
  id: "calibration",
  title: `calibration: ${PROBE_TO} drops ICMP for ${ms} ms`,
  condition: "the DROP rule removed",
  async inject(c) {
    const t0 = Date.now();
    const { heldMs } = await controlledOutage(c.lab, ms);
    return { from: t0 + heldMs, detail: `DROP held ${heldMs} ms`, recovered: async () => true };
  },
});
