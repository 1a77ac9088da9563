import { rm } from "node:fs/promises";
import { agentRunning, agentSupervised, startAgent, stopAgent } from "../../agent/daemon/launch.ts";
import type { Handler } from "./handler.ts";
import type { UnderlayRoute } from "../../agent/felix/host.ts";
import { scaledMs } from "../timeouts.ts";

/** calico-node on one host: our agent daemon (startup, confd + BIRD, felix), detached in the host's namespace. */
export interface AgentInputs {
  hostNetns: string;
  nodeName: string;
  manifestPath: string;
  runDir: string;
  labels: Record<string, string>;
  rrClusterId?: string;
  /** BIRD's control socket's folder (a VM host's: a tmpfs inside the VM). */
  socketDir?: string;
  /** How long the agent may take to be ready (ms; a VM host's under TCG takes far longer). */
  readyTimeoutMs?: number;
  /** The host's routes on its underlay interface (the plan's): the agent puts them back when they go. */
  underlayRoutes?: UnderlayRoute[];
}

async function start(i: AgentInputs) {
  await startAgent({
    hostNetns: i.hostNetns,
    manifestPath: i.manifestPath,
    nodeName: i.nodeName,
    runDir: i.runDir,
    labels: i.labels,
    ...(i.rrClusterId ? { rrClusterId: i.rrClusterId } : {}),
    ...(i.socketDir ? { socketDir: i.socketDir } : {}),
    ...(i.underlayRoutes?.length ? { underlayRoutes: i.underlayRoutes } : {}),
    // Ready in about 1 s on an idle machine; dozens starting at once on 2 cores take far longer.
    readyTimeoutMs: scaledMs(i.readyTimeoutMs ?? 60_000),
  });
}

export const agentHandler: Handler<AgentInputs> = {
  replaceOn: ["hostNetns", "nodeName", "runDir"],
  async create(inputs) {
    await start(inputs);
    return { id: `${inputs.hostNetns}/calico-node`, outs: inputs };
  },
  async read(_id, props) {
    // Supervised, it exists while restarting too (its supervisor starts it again).
    return (await agentRunning(props.runDir)) || (await agentSupervised(props.runDir)) ? props : undefined;
  },
  async update(_id, _olds, news) {
    // New labels, reflector role or manifest: restart, as a DaemonSet rollout would.
    await stopAgent(news.runDir);
    await start(news);
    return news;
  },
  async delete(_id, props) {
    await stopAgent(props.runDir);
    await rm(props.runDir, { recursive: true, force: true });
  },
};
