import { readFile } from "node:fs/promises";
import { ensureGoProgram } from "../../build/go-programs.ts";
import { cniNetworkConfig, invokeCni, type PodRef } from "../../agent/cni/invoke.ts";
import { readAgentSettings } from "../../manifest/index.ts";
import { run, tryRun } from "../../effects/exec.ts";
import { execIn, hostOfNetns, type HostExec } from "../../effects/host-exec.ts";
import { listLinks, listRoutes, type LinkInfo, type RouteInfo } from "../../effects/links.ts";
import { assertIfName } from "../../effects/names.ts";
import { daemonPid, daemonSupervision, startDaemon, stopDaemon } from "../../effects/daemon.ts";
import { createNetns, deleteNetns, netnsExists } from "../../effects/netns.ts";
import type { Handler } from "./handler.ts";
import { scaledMs } from "../timeouts.ts";

/** A kubelet gives a CNI call a minute, too. */
const CNI_TIMEOUT_MS = () => scaledMs(60_000);

/** A pod: its own network namespace, wired by the CNI plugin exactly as a kubelet would call it. */
export interface PodInputs {
  name: string;
  netns: string;
  hostNetns: string;
  host: string;
  namespace: string;
  containerId: string;
  /** The rendered calico.yaml: etcd endpoints and the pod MTU come from it. */
  manifestPath: string;
  runDir: string;
  /** The host agent's CNI socket: the pod is wired through the agent (cni/server.ts). */
  agentSocket: string;
  server: boolean;
  serverPort: number;
}

export interface PodOutputs extends PodInputs {
  ip: string;
  hostInterface: string;
  /** What a refresh found missing on the host (the pod's /32 route, its interface): the next up repairs it. */
  drift?: string[];
}

/** What the CNI plugin reported for an ADD: the pod's address and the host's side of its veth. */
export interface CniOutcome {
  ip?: string;
  hostInterface?: string;
  /** The plugin's whole result, as JSON (for messages). */
  raw: string;
}

/**
 * What a pod does to its host (the real ones below; a unit test records them). Every command runs on the
 * host the pod's host namespace is on (`hostOf`): this kernel, or a VM host's, whose pods live in its VM.
 */
export interface PodEffects {
  hostOf(netns: string): HostExec;
  createNetns(name: string, host: HostExec): Promise<void>;
  deleteNetns(name: string): Promise<void>;
  netnsExists(name: string): Promise<boolean>;
  /** The CNI plugin called as a kubelet would; DEL of a pod already gone is fine. */
  cni(command: "ADD" | "DEL", p: PodInputs): Promise<CniOutcome>;
  startServer(p: PodInputs): Promise<void>;
  stopServer(p: PodInputs): Promise<void>;
  serverUp(p: PodInputs): Promise<boolean>;
  listLinks(netns: string): Promise<LinkInfo[]>;
  listRoutes(netns: string, dev?: string): Promise<RouteInfo[]>;
  /** Runs argv; exits non-zero: throws (as effects/exec.ts `run`); `tryRun`: its exit code. */
  run(argv: readonly string[]): Promise<string>;
  tryRun(argv: readonly string[]): Promise<{ exitCode: number }>;
}

async function cniConfig(p: PodInputs) {
  const s = readAgentSettings(await readFile(p.manifestPath, "utf8"));
  if (s.datastore.type !== "etcdv3") throw new Error(`${p.manifestPath}: the lab needs the etcdv3 datastore`);
  return cniNetworkConfig({
    etcdEndpoints: s.datastore.endpoints,
    nodename: p.host,
    agentSocket: p.agentSocket,
    ...(s.vethMtu > 0 ? { mtu: s.vethMtu } : {}),
  });
}

function ref(p: PodInputs): PodRef {
  return {
    hostNetns: p.hostNetns,
    podNetns: p.netns,
    namespace: p.namespace,
    pod: p.name,
    containerId: p.containerId,
  };
}

/** Whether the pod's cali interface is in its host's namespace. */
async function hostLinkExists(fx: PodEffects, p: PodOutputs): Promise<boolean> {
  const dev = assertIfName(p.hostInterface);
  const argv = execIn(fx.hostOf(p.hostNetns), p.hostNetns, ["ip", "link", "show", "dev", dev]);
  return (await fx.tryRun(argv)).exitCode === 0;
}

/**
 * The host's side of the pod, as its agent keeps it: the cali interface, the `<ip>/32 dev <cali>` route.
 * Returns what is missing (empty: all there).
 */
async function hostSideDrift(fx: PodEffects, p: PodOutputs): Promise<string[]> {
  if (!p.hostInterface || !p.ip) return [];
  if (!(await fx.netnsExists(p.hostNetns))) return [];
  if (!(await hostLinkExists(fx, p)))
    return [`host interface ${p.hostInterface} in ${p.hostNetns} is missing`];
  const routes = await fx.listRoutes(p.hostNetns, p.hostInterface);
  const has = routes.some(
    (r) => (r.dst === p.ip || r.dst === `${p.ip}/32`) && !r.gateway && (r.type ?? "unicast") === "unicast",
  );
  return has ? [] : [`route ${p.ip}/32 dev ${p.hostInterface} in ${p.hostNetns} is missing`];
}

/**
 * Puts the host's side back in place: the route and the pod's permanent neighbour when the interface is
 * there; otherwise the CNI plugin's ADD again, which keeps the pod's address (its IPAM handle holds it)
 * and recreates the veth pair. Returns the outputs the ADD reports.
 */
async function repairHostSide(
  fx: PodEffects,
  p: PodOutputs,
): Promise<Pick<PodOutputs, "ip" | "hostInterface">> {
  if (p.hostInterface && (await hostLinkExists(fx, p))) {
    const host = fx.hostOf(p.hostNetns);
    await fx.run(
      execIn(host, p.hostNetns, [
        "ip",
        "route",
        "replace",
        `${p.ip}/32`,
        "dev",
        p.hostInterface,
        "scope",
        "link",
      ]),
    );
    const [pod] = (await fx.listLinks(p.netns)).filter((l) => l.ifname === "eth0");
    if (pod?.address)
      await fx.run(
        execIn(host, p.hostNetns, [
          "ip", "neigh", "replace", p.ip, "lladdr", pod.address, "dev", p.hostInterface, "nud", "permanent",
        ]),
      ); // prettier-ignore
    return { ip: p.ip, hostInterface: p.hostInterface };
  }
  const result = await fx.cni("ADD", p);
  return { ip: result.ip ?? p.ip, hostInterface: result.hostInterface ?? p.hostInterface };
}

const serverName = (p: PodInputs) => `echo-${p.name}`;

/** The pod handler's effects on the machine: the pod's namespace on its host's kernel, CNI, echo server. */
export const podEffects: PodEffects = {
  hostOf: hostOfNetns,
  createNetns,
  deleteNetns: (name) => deleteNetns(name),
  netnsExists: (name) => netnsExists(name),
  async cni(command, p) {
    const result = await invokeCni(command, ref(p), await cniConfig(p), CNI_TIMEOUT_MS(), "agent");
    const ip = result?.ips?.[0]?.address?.split("/")[0];
    const hostInterface = result?.interfaces?.find((i) => !i.sandbox)?.name;
    return {
      ...(ip ? { ip } : {}),
      ...(hostInterface ? { hostInterface } : {}),
      raw: JSON.stringify(result),
    };
  },
  async startServer(p) {
    await startDaemon({
      name: serverName(p),
      netns: p.netns,
      // The run folder as a last argument marks the process as this lab's (CI's residue check finds it).
      argv: [await ensureGoProgram("echo-server"), String(p.serverPort), p.name, `${p.runDir}/`],
      runDir: p.runDir,
      ready: async () =>
        (
          await tryRun(execIn(hostOfNetns(p.netns), p.netns, ["ss", "-Hltn", `sport = :${p.serverPort}`]))
        ).stdout.includes(`:${p.serverPort}`),
      // Killed, it is started again; it holds no state, so it is stopped with SIGKILL at once.
      supervised: true,
      stopGraceMs: 0,
    });
  },
  stopServer: (p) => stopDaemon(p.runDir, serverName(p)),
  async serverUp(p) {
    return Boolean(
      (await daemonPid(p.runDir, serverName(p))) ?? (await daemonSupervision(p.runDir, serverName(p))),
    );
  },
  listLinks: (netns) => listLinks(netns),
  listRoutes: (netns, dev) => listRoutes(netns, dev),
  run: (argv) => run(argv),
  tryRun: (argv) => tryRun(argv),
};

export function makePodHandler(fx: PodEffects): Handler<PodInputs, PodOutputs> {
  return {
    replaceOn: ["name", "netns", "hostNetns", "host", "namespace", "containerId"],
    async create(inputs) {
      // A VM host's pods live in its VM, as its lab namespace does.
      await fx.createNetns(inputs.netns, fx.hostOf(inputs.hostNetns));
      try {
        const result = await fx.cni("ADD", inputs);
        if (!result.ip) throw new Error(`CNI ADD for pod ${inputs.name} returned no address: ${result.raw}`);
        if (inputs.server) await fx.startServer(inputs);
        return {
          id: inputs.netns,
          outs: { ...inputs, ip: result.ip, hostInterface: result.hostInterface ?? "" },
        };
      } catch (e) {
        await fx.cni("DEL", inputs).catch(() => undefined);
        await fx.stopServer(inputs);
        await fx.deleteNetns(inputs.netns);
        throw e;
      }
    },
    async read(_id, props) {
      if (!(await fx.netnsExists(props.netns))) return undefined;
      if (props.server && !(await fx.serverUp(props))) return undefined;
      const { drift: _old, ...rest } = props;
      const drift = await hostSideDrift(fx, props);
      return drift.length > 0 ? { ...rest, drift } : rest;
    },
    async update(_id, olds, news) {
      // A refresh found the host's side broken: repaired in place, the pod keeps its namespace and address.
      const repaired = olds.drift?.length ? await repairHostSide(fx, { ...olds, ...news }) : {};
      if (olds.server && !news.server) await fx.stopServer(news);
      if (news.server) await fx.startServer(news);
      const { drift: _old, ...rest } = olds;
      return { ...rest, ...news, ...repaired };
    },
    async delete(_id, props) {
      await fx.stopServer(props);
      // DEL releases the address and removes the workload endpoint; a second DEL is fine.
      await fx.cni("DEL", props).catch(() => undefined);
      await fx.deleteNetns(props.netns);
    },
  };
}

export const podHandler = makePodHandler(podEffects);
