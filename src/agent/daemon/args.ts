// The daemon's command line. Pure.
import { isIPv4 } from "node:net";
import { labelKeyProblem, labelValueProblem } from "../../config/labels.ts";
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
  "usage: main.ts --manifest <calico.yaml> --nodename <name> --run-dir <dir> [--label k=v]… " +
  "[--rr-cluster-id a.b.c.d] [--etcd-endpoints http://ip:2379[,…]] [--resync-ms 30000] [--socket-dir <dir>] " +
  '[--underlay-routes "default[ via a.b.c.d],…"]';

const NODE_NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

/**
 * One `--label` argument, `key=value`: the key up to the first "=", the value all the rest, each checked
 * as a Kubernetes label. One label per argument, never a list split on commas: a value cannot make a
 * second label.
 */
export function parseLabel(text: string): [string, string] {
  const i = text.indexOf("=");
  if (i < 0) throw new Error(`invalid label "${text}": write key=value`);
  const k = text.slice(0, i);
  const v = text.slice(i + 1);
  const keyWhy = labelKeyProblem(k);
  if (keyWhy) throw new Error(`invalid label key "${k}": ${keyWhy}`);
  const valueWhy = labelValueProblem(v);
  if (valueWhy) throw new Error(`invalid label value "${v}" for ${k}: ${valueWhy}`);
  return [k, v];
}

/** The `--label` arguments that carry these labels, one per label. */
export function labelArgv(labels: Record<string, string>): string[] {
  return Object.entries(labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
}

export function parseDaemonArgs(argv: readonly string[]): DaemonArgs {
  const v: Record<string, string> = {};
  const labels: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unexpected argument "${a}"\n${USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
    if (m[1] === "label") {
      const [k, lv] = parseLabel(value);
      if (k in labels) throw new Error(`label "${k}" given twice`);
      labels[k] = lv;
    } else v[m[1]!] = value;
  }
  const known = [
    "manifest",
    "nodename",
    "run-dir",
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
    labels,
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
  argv.push(...labelArgv(a.labels));
  if (a.rrClusterId) argv.push("--rr-cluster-id", a.rrClusterId);
  if (a.etcdEndpoints?.length) argv.push("--etcd-endpoints", a.etcdEndpoints.join(","));
  if (a.resyncMs !== undefined) argv.push("--resync-ms", String(a.resyncMs));
  if (a.socketDir) argv.push("--socket-dir", a.socketDir);
  if (a.underlayRoutes?.length) argv.push("--underlay-routes", formatUnderlayRoutes(a.underlayRoutes));
  return argv;
}
