// The daemon's startup, before its reconcile loop: the manifest → the node's settings, the preflight of
// this kernel (the manifest's mode needs these features; refused before anything is created), then
// calico-node's startup (register the node, pools, tunnel addresses) and the underlay interface.
import { mkdir, readFile } from "node:fs/promises";
import { readAgentSettings } from "../../manifest/index.ts";
import { MODE_SPECS, type Mode } from "../../modes.ts";
import { runStartup, type AgentSettings } from "../startup/node.ts";
import { settingsFromManifest } from "../startup/from-manifest.ts";
import { interfaceWithAddress, type ApplyContext } from "../felix/dataplane.ts";
import { modeName, probeFeatures } from "../felix/probe.ts";
import type { DaemonArgs } from "./args.ts";
import type { AgentStatus } from "./status.ts";

/** The socket path must fit a sockaddr_un (108 bytes with the NUL). */
const MAX_SOCKET_PATH = 100;

/** The kernel lacks what the manifest's mode needs: starting again cannot help (main.ts exits 3). */
export class PreflightRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PreflightRefusal";
  }
}

export interface StartedNode {
  settings: AgentSettings;
  mtus: { ipip: number; vxlan: number };
  mode: Mode;
  /** The node's address with its prefix length (its BGP address). */
  address: string;
  ctx: ApplyContext;
}

/** Checks the run dir's paths, makes its folders. */
export async function prepareRunDir(args: DaemonArgs, birdSocket: string): Promise<void> {
  await mkdir(args.runDir, { recursive: true });
  if (args.socketDir) await mkdir(args.socketDir, { recursive: true });
  if (birdSocket.length > MAX_SOCKET_PATH)
    throw new Error(`run dir too long for BIRD's control socket (${birdSocket}); use a shorter path`);
}

/** The node's settings from the manifest and the daemon's arguments. */
async function readSettings(args: DaemonArgs, netns: string) {
  const manifest = readAgentSettings(await readFile(args.manifest, "utf8"), { subject: args.manifest });
  const settings = settingsFromManifest(manifest, {
    nodeName: args.nodeName,
    netns,
    labels: args.labels,
    ...(args.etcdEndpoints ? { etcdEndpoints: args.etcdEndpoints } : {}),
    ...(args.rrClusterId ? { routeReflectorClusterID: args.rrClusterId } : {}),
  });
  if (settings.etcd.endpoints.length === 0)
    throw new Error("no etcd endpoints (manifest etcd_endpoints or --etcd-endpoints)");
  return { manifest, settings };
}

/**
 * Settings, preflight, calico-node's startup. Throws PreflightRefusal when this kernel cannot run the
 * mode; a degraded mode is logged and published (`degraded`) before the node is registered.
 */
export async function startNode(
  args: DaemonArgs,
  netns: string,
  log: (m: string) => void,
  publish: (patch: Partial<AgentStatus>) => Promise<void>,
): Promise<StartedNode> {
  const { manifest, settings } = await readSettings(args, netns);
  const mtus = { ipip: manifest.felix.ipipMtu, vxlan: manifest.felix.vxlanMtu };

  // Preflight before anything is created: the manifest's mode needs these kernel features.
  const mode = modeName(manifest.pool);
  const needs = [...MODE_SPECS[mode].kernelFeatures];
  if (manifest.felix.ipipEnabled === true && !needs.includes("ipip")) needs.push("ipip");
  const probe = await probeFeatures(mode, needs);
  if (probe.refusals.length > 0) throw new PreflightRefusal(probe.refusals.join("\n"));
  for (const d of probe.degraded) log(`WARNING: ${d.message}`);
  const degraded = probe.degraded.map((d) => d.message);
  if (degraded.length > 0) await publish({ degraded });

  const result = await runStartup(settings, log);
  const address = result.node.spec.bgp!.ipv4Address!;
  const ctx: ApplyContext = {
    underlayIf: await interfaceWithAddress(address.split("/")[0]!),
    log,
    ...(probe.degraded.some((d) => d.feature === "ipip") ? { noIpip: true } : {}),
  };
  log(`node ${args.nodeName} registered at ${address} (underlay ${ctx.underlayIf}), mode ${mode}`);
  return { settings, mtus, mode, address, ctx };
}
