// Verification of a running lab, with packets: the checks `pulumi up` runs and `verify` prints.
// Every check says what was expected and what was seen; nothing sleeps, everything retries to a deadline.
import { MODE_SPECS, type Mode } from "../modes.ts";
import { dirname } from "node:path";
import type { LabPlan } from "../lab/topology.ts";
import { ECHO_PORT, sameSubnetHosts } from "../lab/topology.ts";
import { scaledMs } from "../lab/timeouts.ts";
import { inNetns, tryRun } from "../effects/exec.ts";
import { listLinks } from "../effects/links.ts";
import { hostBackends } from "../backends/index.ts";
import { netnsExists } from "../effects/netns.ts";
import { vmOfNetns } from "../effects/vm-netns.ts";
import { parseBgpSessions, type BgpSession } from "./bird.ts";
import { expectHost, type HostExpectation } from "./calico-rules.ts";
import { captureDuring, classifyCapture, describePacket, type CapturedPacket } from "./capture.ts";
import { check, skippedCheck, type Check } from "./checks.ts";
import { birdSocketOf, readAgentClaim } from "./daemons.ts";
import { deadDaemons, etcdAddress, onlyCatchingUp, verifyDaemons } from "./daemon-checks.ts";
import { deviceChecks, judgeRoutes, missingRoutes, routeChecks, type SeenLink } from "./host-checks.ts";
import { expectedEncapsulation, normalizeRoutes, type RunningPod } from "./expectations.ts";
import { podPairModeFor, ringOffsets, selectNodePodPairs, selectPodPairs } from "./pod-sample.ts";
import { inParallel, ping } from "./ping.ts";
import { readDatastore } from "./snapshot.ts";
import { verifyUnderlay } from "./underlay.ts";

export type { Category, Check } from "./checks.ts";

export interface LabReport {
  stack: string;
  mode: Mode;
  ok: boolean;
  checks: Check[];
  capture?: { from: string; to: string; packet?: CapturedPacket };
  /** How the pairs were sampled (big labs); absent when every pair was checked. */
  sampling?: string;
  /** Every capture taken, when more than one (routed underlay: inside a subnet and across the router). */
  captures?: { from: string; to: string; packet?: CapturedPacket }[];
  bgp: Record<string, BgpSession[]>;
  routes: Record<string, string[]>;
  /** The routes each host had to have (from the datastore), kept so drift can be found later. */
  expectedRoutes: Record<string, string[]>;
  verifiedAt: string;
  durationMs: number;
}

export interface VerifyOptions {
  deadlineMs?: number;
  /** The lab's run dir (etcd's pid file is there); default: the folder that holds the hosts' run dirs. */
  runDir?: string;
  /** Run dir per host: the agent's pid and status.json, BIRD's pid and control socket. */
  hostRunDir: (host: string) => string;
}

async function httpGet(netns: string, ip: string, port: number): Promise<string> {
  // Values are passed as arguments ($1, $2), never pasted into the script.
  const script = 'exec 3<>"/dev/tcp/$1/$2" && printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3 && timeout 3 cat <&3';
  const r = await tryRun(inNetns(netns, ["bash", "-c", script, "http-get", ip, String(port)]), {
    timeoutMs: scaledMs(5000),
  });
  return r.exitCode === 0 ? r.stdout : `error: ${(r.stderr || r.stdout).trim()}`;
}

/** One ping the verification makes: from a namespace on `fromHost` to an address on `toHost`. */
interface PingJob {
  name: string;
  netns: string;
  ip: string;
  fromHost: string;
  toHost: string;
}

/**
 * Why IP-in-IP cannot be checked, or undefined when it can: what the agents themselves report. An agent
 * runs crosssubnet without tunl0 when its kernel has no ipip module and says so in status.json
 * (`degraded`); every other IPIP mode is refused at its preflight. Verification does not probe the kernel
 * again: it checks what the agents did.
 */
async function ipipSkipReason(plan: LabPlan, opts: VerifyOptions): Promise<string | undefined> {
  if (!MODE_SPECS[plan.mode].degradesWithout.includes("ipip")) return undefined;
  for (const h of plan.hosts) {
    const degraded = (await readAgentClaim(opts.hostRunDir(h.name)))?.degraded?.[0];
    if (degraded) return `the agent on ${h.name} runs without IP-in-IP: ${degraded.split(";")[0]}`;
  }
  return undefined;
}

async function retry<T>(deadlineMs: number, fn: () => Promise<T>, ok: (t: T) => boolean): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const t = await fn();
    if (ok(t) || Date.now() >= end) return t;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function verifyLab(plan: LabPlan, pods: RunningPod[], opts: VerifyOptions): Promise<LabReport> {
  const started = Date.now();
  const deadline = opts.deadlineMs ?? 10_000;
  const checks: Check[] = [];
  const podNetns = (name: string) => plan.pods.find((p) => p.name === name)!.netns;
  const host = (name: string) => plan.hosts.find((h) => h.name === name)!;

  // Big labs sample the pairs they ping (pod-sample.ts); the report says so.
  const pairMode = podPairModeFor(plan.hosts.length);
  const sampling =
    pairMode === "all"
      ? undefined
      : `${plan.hosts.length} hosts: pairs sampled around the ring of hosts at distances ` +
        `${ringOffsets(plan.hosts.length).join(", ")} (each host reaches those hosts and their pods), plus ` +
        `every pod to the next pod on its node and every host to its own pods`;

  // 1. Underlay.
  const underlay = await verifyUnderlay(plan, deadline);
  checks.push(...underlay.checks.map((c) => ({ ...c, category: "underlay" as const })));

  // 2. The daemons (etcd, calico-node, BIRD) alive and ready, read from the processes; etcd answers.
  const datastore = await readDatastore(plan.etcd.netns, plan.etcd.endpoint);
  const facts = datastore.ok ? datastore.facts : undefined;
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
    // Without the datastore, BIRD is still expected where the mode routes with BGP.
    return e === undefined || typeof e === "string" ? MODE_SPECS[plan.mode].runsBgp : e.bird;
  };
  const runDir = opts.runDir ?? dirname(opts.hostRunDir(plan.hosts[0]!.name));
  // A calico-node that runs but is catching up (it is "unready" until its etcd watch is back) gets the
  // same deadline as a ping; a dead daemon fails at once, with what was seen.
  const daemons = await retry(
    deadline,
    () => verifyDaemons(plan, datastore, { ...opts, runDir, birdOn }),
    (cs) => !onlyCatchingUp(cs),
  );
  checks.push(...daemons);

  // 3. Datastore-derived expectations per host (Calico's rules, calico-rules.ts): routes, devices.
  const routes: Record<string, string[]> = {};
  const expectedRoutes: Record<string, string[]> = {};
  const ipipSkip = await ipipSkipReason(plan, opts);
  /** Traffic between these hosts' namespaces needs IP-in-IP that this kernel cannot do. */
  const blocked = (a: string, b: string) =>
    ipipSkip !== undefined && a !== b && !sameSubnetHosts(host(a), host(b));
  for (const h of plan.hosts) {
    const want = expect.get(h.name);
    const readRoutes = async () =>
      normalizeRoutes((await tryRun(inNetns(h.netns, ["ip", "route", "show"]))).stdout);
    if (want === undefined || typeof want === "string") {
      const why =
        want ?? `etcd at ${etcdAddress(plan.etcd.endpoint)} is unreachable (see the daemons checks)`;
      routes[h.name] = await readRoutes();
      checks.push(
        check(
          "routes",
          `routes on ${h.name}`,
          false,
          "routes derived from the datastore",
          `not checked: ${why}`,
        ),
        check(
          "devices",
          `devices on ${h.name}`,
          false,
          "devices derived from the datastore",
          `not checked: ${why}`,
        ),
      );
      continue;
    }
    let verdict = judgeRoutes(facts!, want, [], ipipSkip);
    const got = await retry(deadline, readRoutes, (lines) => {
      verdict = judgeRoutes(facts!, want, lines, ipipSkip);
      return verdict.missing.length === 0 && verdict.unexpected.length === 0;
    });
    routes[h.name] = got;
    expectedRoutes[h.name] = verdict.wanted;
    checks.push(...routeChecks(h.name, verdict, ipipSkip));
    const links = JSON.parse(
      (await tryRun(inNetns(h.netns, ["ip", "-d", "-j", "addr", "show"]))).stdout || "[]",
    ) as SeenLink[];
    checks.push(...deviceChecks(h.name, want, links, ipipSkip));
  }

  // 4. BGP sessions.
  const bgp: Record<string, BgpSession[]> = {};
  const anyBird = plan.hosts.some((h) => birdOn(h.name));
  if (anyBird) {
    for (const h of plan.hosts) {
      // birdc in the host's namespace: a VM host's BIRD and its socket are inside the VM.
      const runDir = opts.hostRunDir(h.name);
      const sock = birdSocketOf(runDir, await readAgentClaim(runDir));
      const peers = await retry(
        deadline,
        async () =>
          parseBgpSessions(
            (await tryRun(inNetns(h.netns, ["birdc", "-s", sock, "show", "protocols"]))).stdout,
          ),
        (ps) => ps.length > 0 && ps.every((p) => p.info.startsWith("Established")),
      );
      bgp[h.name] = peers;
      const down = peers.filter((p) => !p.info.startsWith("Established"));
      checks.push(
        check(
          "bgp",
          `BGP sessions of ${h.name}`,
          peers.length > 0 && down.length === 0,
          "every session Established",
          peers.length === 0
            ? "no BGP sessions"
            : down.length === 0
              ? `${peers.length} Established (${peers.map((p) => p.address).join(", ")})`
              : down.map((p) => `${p.address}: ${p.state} ${p.info}`).join("; "),
        ),
      );
    }
  }

  // 4. Pod to pod, every ordered pair; node to pod.
  /** Pings as checks: each one skipped where its hosts need IP-in-IP this kernel lacks. */
  const pingChecks = async (category: "pod-pod" | "node-pod", jobs: PingJob[]) => {
    const results = await inParallel(jobs, 8, (j) =>
      blocked(j.fromHost, j.toHost) ? Promise.resolve(undefined) : ping(j.netns, j.ip, deadline),
    );
    return jobs.map((j, i): Check => {
      const r = results[i];
      const extra = { crossNode: j.fromHost !== j.toHost };
      if (!r) return skippedCheck(category, j.name, "an ICMP echo reply", ipipSkip!, extra);
      const seen = r.ok
        ? `reply in ${r.rttMs ?? "?"} ms`
        : `no reply after ${r.attempts} attempts: ${r.seen ?? ""}`;
      return check(category, j.name, r.ok, "an ICMP echo reply", seen, extra);
    });
  };
  const pairs = selectPodPairs(pods, pairMode);
  checks.push(
    ...(await pingChecks(
      "pod-pod",
      pairs.map((p) => ({
        name: `${p.from.name} (${p.from.host}) -> ${p.to.name} (${p.to.host}) ${p.to.ip}`,
        netns: podNetns(p.from.name),
        ip: p.to.ip,
        fromHost: p.from.host,
        toHost: p.to.host,
      })),
    )),
  );
  const nodePod = selectNodePodPairs(plan.hosts, pods, pairMode);
  checks.push(
    ...(await pingChecks(
      "node-pod",
      nodePod.map(({ h, p }) => ({
        name: `${h.name} -> ${p.name} (${p.host}) ${p.ip}`,
        netns: h.netns,
        ip: p.ip,
        fromHost: h.name,
        toHost: p.host,
      })),
    )),
  );

  // 5. TCP: HTTP to each echo server from a pod on another node (seed 003); the client address is the pod's.
  for (const server of pods.filter((p) => p.server)) {
    const others = pods.filter((p) => p.host !== server.host);
    const client =
      others.find((p) => !blocked(p.host, server.host)) ?? others[0] ?? pods.find((p) => p !== server);
    if (!client) continue;
    if (blocked(client.host, server.host)) {
      checks.push(
        skippedCheck(
          "tcp",
          `HTTP ${client.name} (${client.host}) -> ${server.name} (${server.host}) ${server.ip}:${ECHO_PORT}`,
          `a reply from ${server.name} that saw client ${client.ip}`,
          ipipSkip!,
          { crossNode: true },
        ),
      );
      continue;
    }
    const body = await retry(
      deadline,
      () => httpGet(podNetns(client.name), server.ip, ECHO_PORT),
      (b) => b.includes(`"pod":"${server.name}"`),
    );
    const ok = body.includes(`"pod":"${server.name}"`) && body.includes(`"client":"${client.ip}"`);
    checks.push(
      check(
        "tcp",
        `HTTP ${client.name} (${client.host}) -> ${server.name} (${server.host}) ${server.ip}:${ECHO_PORT}`,
        ok,
        `a reply from ${server.name} that saw client ${client.ip}`,
        body.trim().split("\n").pop() ?? "(empty)",
        { crossNode: client.host !== server.host },
      ),
    );
  }

  // 6. natOutgoing: a pod reaches the outside host, which sees the node's address, not the pod's.
  const natPools = (facts?.pools ?? []).filter((p) => p.natOutgoing && !p.disabled);
  const natPod = pods[0];
  if (natPod && natPools.length > 0) {
    const nodeIP = host(natPod.host).address;
    let result = { ok: false, attempts: 0 } as Awaited<ReturnType<typeof ping>>;
    const lines = await captureDuring(plan.outside.netns, plan.outside.ifname, async () => {
      result = await ping(podNetns(natPod.name), plan.outside.address, deadline);
    });
    const fromNode = lines.some((l) => l.includes(`${nodeIP} > ${plan.outside.address}: ICMP echo request`));
    const fromPod = lines.some((l) =>
      l.includes(`${natPod.ip} > ${plan.outside.address}: ICMP echo request`),
    );
    checks.push(
      check(
        "nat",
        `natOutgoing ${natPod.name} (${natPod.host}) -> outside ${plan.outside.address}`,
        result.ok && fromNode && !fromPod,
        `a reply, and the outside host sees source ${nodeIP} (the node), not ${natPod.ip}`,
        `${result.ok ? "reply" : "no reply"}; outside saw ${fromNode ? nodeIP : fromPod ? natPod.ip : "nothing"}`,
      ),
    );
  }

  // 6b. Seed 004: the outside router learns the pod blocks over eBGP and reaches pods through the cluster.
  if (plan.outside.asNumber !== undefined) {
    const peers = plan.hosts.filter((h) => plan.routeReflectors.length === 0 || h.rrClusterId);
    const outsideRoutes = await retry(
      deadline,
      async () =>
        normalizeRoutes(
          (await tryRun(["ip", "-n", plan.outside.netns, "route", "show", "proto", "bird"])).stdout,
        ),
      (lines) => lines.length > 0,
    );
    checks.push(
      check(
        "outside",
        `outside router (AS ${plan.outside.asNumber}) learns pod blocks`,
        outsideRoutes.length > 0,
        `pod blocks learned over eBGP from ${peers.map((h) => h.name).join(", ")} (proto bird)`,
        outsideRoutes.join("; ") || "no BGP routes",
      ),
    );
    const outsideResults = await inParallel(pods, 8, (p) => ping(plan.outside.netns, p.ip, deadline));
    pods.forEach((p, i) => {
      const r = outsideResults[i]!;
      checks.push(
        check(
          "outside",
          `outside -> ${p.name} (${p.host}) ${p.ip}`,
          r.ok,
          "an ICMP echo reply through the cluster",
          r.ok ? `reply in ${r.rttMs ?? "?"} ms` : `no reply after ${r.attempts} attempts: ${r.seen ?? ""}`,
        ),
      );
    });
  }

  // 7. Capture on the underlay during a cross-node pod ping: the mode's encapsulation, proven. On a routed
  // underlay, one pair inside a subnet and one across the router (crosssubnet differs between the two).
  const captures: NonNullable<LabReport["captures"]> = [];
  const crossPairs = pairs.filter((p) => p.crossNode);
  const sampled = [
    crossPairs.find((p) => sameSubnetHosts(host(p.from.host), host(p.to.host))),
    crossPairs.find((p) => !sameSubnetHosts(host(p.from.host), host(p.to.host))),
  ].filter((p): p is (typeof crossPairs)[number] => p !== undefined);
  for (const cross of sampled) {
    const fromHost = host(cross.from.host);
    const toHost = host(cross.to.host);
    const same = sameSubnetHosts(fromHost, toHost);
    const want = expectedEncapsulation(plan.mode, same);
    const where = same ? "" : " (across the router)";
    const name = `underlay capture ${cross.from.name} -> ${cross.to.name}${where}`;
    const wantText =
      want === "plain"
        ? `plain ICMP between pod addresses in a frame from ${cross.from.host}'s eth0`
        : describePacket({
            kind: want,
            srcMac: "",
            dstMac: "",
            outerSrc: fromHost.address,
            outerDst: toHost.address,
            line: "",
          });
    if (blocked(fromHost.name, toHost.name)) {
      checks.push(skippedCheck("capture", name, wantText, ipipSkip!));
      continue;
    }
    const at = hostBackends[fromHost.machine.kind].captureAt(plan.switchNetns, fromHost);
    const lines = await captureDuring(at.netns, at.ifname, () =>
      ping(podNetns(cross.from.name), cross.to.ip, deadline),
    );
    const packet = classifyCapture(lines, cross.from.ip, cross.to.ip);
    captures.push({ from: cross.from.name, to: cross.to.name, ...(packet ? { packet } : {}) });
    const links = await listLinks(fromHost.netns);
    const hostMac = links.find((l) => l.ifname === fromHost.ifname)?.address;
    const macOk = want !== "plain" || packet?.srcMac === hostMac;
    checks.push(
      check(
        "capture",
        name,
        packet?.kind === want && macOk,
        want === "plain" ? `${wantText} (${hostMac})` : wantText,
        describePacket(packet),
      ),
    );
  }
  const capture = captures[0];

  return {
    stack: plan.stack,
    mode: plan.mode,
    ok: checks.every((c) => c.ok),
    checks,
    ...(capture ? { capture } : {}),
    ...(captures.length > 1 ? { captures } : {}),
    ...(sampling ? { sampling } : {}),
    bgp,
    routes,
    expectedRoutes,
    verifiedAt: new Date().toISOString(),
    durationMs: Date.now() - started,
  };
}

export function formatLabFailures(report: LabReport): string {
  const failed = report.checks.filter((c) => !c.ok);
  const lines = [
    `verification of "${report.stack}" failed: ${failed.length} of ${report.checks.length} checks did not pass`,
  ];
  for (const c of failed)
    lines.push(`  - [${c.category}] ${c.name}\n    expected: ${c.expected}\n    seen:     ${c.seen}`);
  return lines.join("\n");
}

/** The daemons that are not alive and ready (etcd not answering among them), each as a sentence. */
export async function deadDaemonsOf(
  plan: LabPlan,
  dirs: { runDir: string; hostRunDir: (host: string) => string },
): Promise<string[]> {
  const datastore = await readDatastore(plan.etcd.netns, plan.etcd.endpoint);
  const facts = datastore.ok ? datastore.facts : undefined;
  const birdOn = (name: string) => {
    try {
      return facts ? expectHost(facts, name, "eth0").bird : MODE_SPECS[plan.mode].runsBgp;
    } catch {
      return MODE_SPECS[plan.mode].runsBgp;
    }
  };
  return deadDaemons(plan, datastore, { ...dirs, birdOn });
}

/**
 * Drift a refresh or a diff can see without sending a packet: a daemon that is not alive and ready (etcd
 * not answering among them), pod namespaces gone, or routes the lab had that are missing now. Empty when
 * the lab still looks as verified.
 */
export async function findDrift(
  plan: LabPlan,
  expectedRoutes: Record<string, string[]>,
  dirs: { runDir: string; hostRunDir: (host: string) => string },
): Promise<string[]> {
  const drift = await deadDaemonsOf(plan, dirs);
  const local = new Set(
    (await tryRun(["ip", "netns", "list"])).stdout.split("\n").map((l) => l.split(" ")[0]),
  );
  // A VM host's namespaces are in its VM: asked there.
  const exists = async (ns: string) => (vmOfNetns(ns) ? netnsExists(ns) : local.has(ns));
  for (const p of plan.pods)
    if (!(await exists(p.netns))) drift.push(`pod ${p.name}: namespace ${p.netns} is gone`);
  for (const h of plan.hosts) {
    if (!(await exists(h.netns))) {
      drift.push(`host ${h.name}: namespace ${h.netns} is gone`);
      continue;
    }
    const got = normalizeRoutes((await tryRun(inNetns(h.netns, ["ip", "route", "show"]))).stdout);
    for (const r of missingRoutes(expectedRoutes[h.name] ?? [], got))
      drift.push(`host ${h.name}: route missing: ${r}`);
  }
  return drift;
}
