import { readFile } from "node:fs/promises";
import { entryArgv } from "../../build/bundles.ts";
import { cniNetworkConfig, invokeCni, type PodRef } from "../../agent/cni/invoke.ts";
import { readAgentSettings } from "../../manifest/index.ts";
import { inNetns, tryRun } from "../../effects/exec.ts";
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
    return props;
  },
  async update(_id, olds, news) {
    if (olds.server && !news.server) await stopDaemon(news.runDir, serverName(news));
    if (news.server) await startServer(news);
    return { ...olds, ...news };
  },
  async delete(_id, props) {
    await stopDaemon(props.runDir, serverName(props));
    // DEL releases the address and removes the workload endpoint; a second DEL is fine.
    await invokeCni("DEL", ref(props), await cniConfig(props), CNI_TIMEOUT_MS()).catch(() => undefined);
    await deleteNetns(props.netns);
  },
};
