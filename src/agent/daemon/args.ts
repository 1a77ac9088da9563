// The daemon's command line. Pure.
import { isIPv4 } from "node:net";
import { formatUnderlayRoutes, parseUnderlayRoutes, type UnderlayRoute } from "../felix/host.ts";

export interface DaemonArgs {
  manifest: string;
  nodeName: string;
  runDir: string;
  labels: Record<string, string>;
  rrClusterId?: string;
  etcdEndpoints?: string[];
  /** Periodic resync (ms): the backstop of the datastore and kernel watches, for iptables and sysctls. */
  resyncMs: number;
  /**
   * Where BIRD's control socket goes (default: the run dir). A VM host's run dir is on a 9p share,
   * which cannot hold unix sockets: its agent puts the socket on a tmpfs.
   */
  socketDir?: string;
  /** The host's routes on its underlay interface, from the lab's plan: the agent keeps them there. */
  underlayRoutes?: UnderlayRoute[];
}

export const USAGE =
  "usage: main.ts --manifest <calico.yaml> --nodename <name> --run-dir <dir> [--labels k=v,k2=v2] " +
  "[--rr-cluster-id a.b.c.d] [--etcd-endpoints http://ip:2379[,…]] [--resync-ms 30000] [--socket-dir <dir>] " +
  '[--underlay-routes "default[ via a.b.c.d],…"]';

const LABEL_KEY = /^([a-z0-9]([a-z0-9.-]*[a-z0-9])?\/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$/;
const NODE_NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

export function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const i = part.indexOf("=");
    const k = i < 0 ? part : part.slice(0, i);
    const v = i < 0 ? "" : part.slice(i + 1);
    if (!LABEL_KEY.test(k)) throw new Error(`invalid label key "${k}"`);
    if (!LABEL_VALUE.test(v)) throw new Error(`invalid label value "${v}" for ${k}`);
    out[k] = v;
  }
  return out;
}

export function formatLabels(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

export function parseDaemonArgs(argv: readonly string[]): DaemonArgs {
  const v: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unexpected argument "${a}"\n${USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
    v[m[1]!] = value;
  }
  const known = [
    "manifest",
    "nodename",
    "run-dir",
    "labels",
    "rr-cluster-id",
    "etcd-endpoints",
    "resync-ms",
    "socket-dir",
    "underlay-routes",
  ];
  for (const k of Object.keys(v)) if (!known.includes(k)) throw new Error(`unknown option --${k}\n${USAGE}`);
  for (const k of ["manifest", "nodename", "run-dir"])
    if (!v[k]) throw new Error(`--${k} is required\n${USAGE}`);
  if (!NODE_NAME.test(v.nodename!)) throw new Error(`invalid node name "${v.nodename}"`);
  const out: DaemonArgs = {
    manifest: v.manifest!,
    nodeName: v.nodename!,
    runDir: v["run-dir"]!,
    labels: v.labels ? parseLabels(v.labels) : {},
    resyncMs: v["resync-ms"] ? Number(v["resync-ms"]) : 30_000,
    ...(v["socket-dir"] ? { socketDir: v["socket-dir"] } : {}),
  };
  if (!Number.isInteger(out.resyncMs) || out.resyncMs < 200)
    throw new Error("--resync-ms must be an integer ≥ 200");
  if (v["rr-cluster-id"] !== undefined) {
    if (!isIPv4(v["rr-cluster-id"]))
      throw new Error(`--rr-cluster-id must look like an IPv4 address (e.g. 244.0.0.1)`);
    out.rrClusterId = v["rr-cluster-id"];
  }
  if (v["underlay-routes"] !== undefined) out.underlayRoutes = parseUnderlayRoutes(v["underlay-routes"]);
  if (v["etcd-endpoints"] !== undefined) {
    out.etcdEndpoints = v["etcd-endpoints"]
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    for (const e of out.etcdEndpoints)
      if (!/^https?:\/\/[A-Za-z0-9.-]+:\d{1,5}$/.test(e)) throw new Error(`invalid etcd endpoint "${e}"`);
  }
  return out;
}

/** The argv (after `node --import tsx main.ts`) that reproduces these arguments. */
export function daemonArgv(a: Omit<DaemonArgs, "resyncMs"> & { resyncMs?: number }): string[] {
  const argv = ["--manifest", a.manifest, "--nodename", a.nodeName, "--run-dir", a.runDir];
  if (Object.keys(a.labels).length > 0) argv.push("--labels", formatLabels(a.labels));
  if (a.rrClusterId) argv.push("--rr-cluster-id", a.rrClusterId);
  if (a.etcdEndpoints?.length) argv.push("--etcd-endpoints", a.etcdEndpoints.join(","));
  if (a.resyncMs !== undefined) argv.push("--resync-ms", String(a.resyncMs));
  if (a.socketDir) argv.push("--socket-dir", a.socketDir);
  if (a.underlayRoutes?.length) argv.push("--underlay-routes", formatUnderlayRoutes(a.underlayRoutes));
  return argv;
}
