import { readFile } from "node:fs/promises";
import { entryArgv } from "../../build/bundles.ts";
import { cniNetworkConfig, invokeCni, type PodRef } from "../../agent/cni/invoke.ts";
import { readAgentSettings } from "../../manifest/index.ts";
import { inNetns, run, tryRun } from "../../effects/exec.ts";
import { listLinks, listRoutes } from "../../effects/links.ts";
import { assertIfName } from "../../effects/names.ts";
import { daemonPid, daemonSupervision, startDaemon, stopDaemon } from "../../effects/daemon.ts";
import { createNetns, deleteNetns, netnsExists } from "../../effects/netns.ts";
import { vmOfNetns } from "../../effects/vm-netns.ts";
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
  server: boolean;
  serverPort: number;
}

export interface PodOutputs extends PodInputs {
  ip: string;
  hostInterface: string;
  /** What a refresh found missing on the host (the pod's /32 route, its interface): the next up repairs it. */
  drift?: string[];
}

/** Whether the pod's cali interface is in its host's namespace (a VM host's too, hence inNetns). */
async function hostLinkExists(p: PodOutputs): Promise<boolean> {
  const dev = assertIfName(p.hostInterface);
  return (await tryRun(inNetns(p.hostNetns, ["ip", "link", "show", "dev", dev]))).exitCode === 0;
}

/**
 * The host's side of the pod, as its agent keeps it: the cali interface, the `<ip>/32 dev <cali>` route.
 * Returns what is missing (empty: all there).
 */
async function hostSideDrift(p: PodOutputs): Promise<string[]> {
  if (!p.hostInterface || !p.ip) return [];
  if (!(await netnsExists(p.hostNetns))) return [];
  if (!(await hostLinkExists(p))) return [`host interface ${p.hostInterface} in ${p.hostNetns} is missing`];
  const routes = await listRoutes(p.hostNetns, p.hostInterface);
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
async function repairHostSide(p: PodOutputs): Promise<Pick<PodOutputs, "ip" | "hostInterface">> {
  if (p.hostInterface && (await hostLinkExists(p))) {
    await run(
      inNetns(p.hostNetns, ["ip", "route", "replace", `${p.ip}/32`, "dev", p.hostInterface, "scope", "link"]),
    );
    const [pod] = (await listLinks(p.netns)).filter((l) => l.ifname === "eth0");
    if (pod?.address)
      await run(
        inNetns(p.hostNetns, [
          "ip", "neigh", "replace", p.ip, "lladdr", pod.address, "dev", p.hostInterface, "nud", "permanent",
        ]),
      ); // prettier-ignore
    return { ip: p.ip, hostInterface: p.hostInterface };
  }
  const result = await invokeCni("ADD", ref(p), await cniConfig(p), CNI_TIMEOUT_MS());
  const ip = result?.ips?.[0]?.address?.split("/")[0] ?? p.ip;
  return { ip, hostInterface: result?.interfaces?.find((i) => !i.sandbox)?.name ?? p.hostInterface };
}

async function cniConfig(p: PodInputs) {
  const s = readAgentSettings(await readFile(p.manifestPath, "utf8"));
  if (s.datastore.type !== "etcdv3") throw new Error(`${p.manifestPath}: the lab needs the etcdv3 datastore`);
  return cniNetworkConfig({
    etcdEndpoints: s.datastore.endpoints,
    nodename: p.host,
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

const serverName = (p: PodInputs) => `echo-${p.name}`;

async function startServer(p: PodInputs): Promise<void> {
  await startDaemon({
    name: serverName(p),
    netns: p.netns,
    // The run folder as a last argument marks the process as this lab's (CI's residue check finds it).
    argv: [...(await entryArgv("echo-server")), String(p.serverPort), p.name, `${p.runDir}/`],
    runDir: p.runDir,
    ready: async () =>
      (await tryRun(inNetns(p.netns, ["ss", "-Hltn", `sport = :${p.serverPort}`]))).stdout.includes(
        `:${p.serverPort}`,
      ),
    // Killed, it is started again; it holds no state, so it is stopped with SIGKILL at once.
    supervised: true,
    stopGraceMs: 0,
  });
}

export const podHandler: Handler<PodInputs, PodOutputs> = {
  replaceOn: ["name", "netns", "hostNetns", "host", "namespace", "containerId"],
  async create(inputs) {
    // A VM host's pods live in its VM, as its lab namespace does.
    await createNetns(inputs.netns, vmOfNetns(inputs.hostNetns));
    try {
      const result = await invokeCni("ADD", ref(inputs), await cniConfig(inputs), CNI_TIMEOUT_MS());
      const ip = result?.ips?.[0]?.address?.split("/")[0];
      const hostInterface = result?.interfaces?.find((i) => !i.sandbox)?.name ?? "";
      if (!ip)
        throw new Error(`CNI ADD for pod ${inputs.name} returned no address: ${JSON.stringify(result)}`);
      if (inputs.server) await startServer(inputs);
      return { id: inputs.netns, outs: { ...inputs, ip, hostInterface } };
    } catch (e) {
      await invokeCni("DEL", ref(inputs), await cniConfig(inputs), CNI_TIMEOUT_MS()).catch(() => undefined);
      await stopDaemon(inputs.runDir, serverName(inputs));
      await deleteNetns(inputs.netns);
      throw e;
    }
  },
  async read(_id, props) {
    if (!(await netnsExists(props.netns))) return undefined;
    if (props.server) {
      const up =
        (await daemonPid(props.runDir, serverName(props))) ??
        (await daemonSupervision(props.runDir, serverName(props)));
      if (!up) return undefined;
    }
    const { drift: _old, ...rest } = props;
    const drift = await hostSideDrift(props);
    return drift.length > 0 ? { ...rest, drift } : rest;
  },
  async update(_id, olds, news) {
    // A refresh found the host's side broken: repaired in place, the pod keeps its namespace and address.
    const repaired = olds.drift?.length ? await repairHostSide({ ...olds, ...news }) : {};
    if (olds.server && !news.server) await stopDaemon(news.runDir, serverName(news));
    if (news.server) await startServer(news);
    const { drift: _old, ...rest } = olds;
    return { ...rest, ...news, ...repaired };
  },
  async delete(_id, props) {
    await stopDaemon(props.runDir, serverName(props));
    // DEL releases the address and removes the workload endpoint; a second DEL is fine.
    await invokeCni("DEL", ref(props), await cniConfig(props), CNI_TIMEOUT_MS()).catch(() => undefined);
    await deleteNetns(props.netns);
  },
};
