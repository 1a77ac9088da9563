// Stage "pods": calico-lab:pods (or seed-like defaults) → named pods placed on hosts, by name or by labels.
import { problem, shown, type Problem } from "../problems.ts";
import { unknownKeys } from "./keys.ts";
import { checkName, type NameRule } from "./names.ts";
import { POD_NAME, RESERVED_NAMES, key, type HostConfig, type PodConfig, type Raw } from "./model.ts";

/** The keys of a pod object; anything else is a typo the lab would silently ignore. */
const POD_KEYS = ["name", "host", "nodeSelector", "server"] as const;

/**
 * Seed-like pods when none are configured: a busybox pod on every worker (every host but the first),
 * a second one on the first worker (a same-node pair), and the echo server (seed 003) on the last worker.
 */
export function defaultPods(hosts: readonly HostConfig[]): Raw[] {
  const workers = hosts.length > 1 ? hosts.slice(1) : hosts;
  const pods: Raw[] = workers.map((h, i) => ({ name: `busybox-${i + 1}`, host: h.name }));
  if (workers[0]) pods.push({ name: `busybox-${workers.length + 1}`, host: workers[0].name });
  const last = workers[workers.length - 1];
  if (last) pods.push({ name: "echo", host: last.name, server: true });
  return pods;
}

/** Pod names must not be a host's or one of the lab's own namespaces. */
function podNames(hostNames: ReadonlySet<string>): NameRule {
  return {
    kind: "pod",
    pattern: POD_NAME,
    becomes: "namespace names",
    maxLength: 23,
    taken: (name) =>
      hostNames.has(name) || (RESERVED_NAMES as readonly string[]).includes(name)
        ? {
            message: "a pod cannot share its name with a host or the lab's own namespaces",
            fix: "rename the pod",
          }
        : undefined,
  };
}

interface PodsContext {
  hosts: readonly HostConfig[];
  hostNames: ReadonlySet<string>;
  /** Names written in the hosts list, valid or not: a pod on a refused host is that host's problem only. */
  written: ReadonlySet<unknown>;
}

export function parsePods(
  raw: Raw,
  hosts: readonly HostConfig[],
  written: ReadonlySet<unknown>,
  problems: Problem[],
): PodConfig[] {
  const list = raw.pods ?? defaultPods(hosts);
  if (!Array.isArray(list)) {
    problems.push(
      problem(
        key("pods"),
        list,
        "pods must be a list",
        'write e.g. [{"name": "busybox-1", "host": "worker-1"}]',
      ),
    );
    return [];
  }
  const out: PodConfig[] = [];
  const seen = new Map<string, number>();
  const ctx: PodsContext = { hosts, hostNames: new Set(hosts.map((h) => h.name)), written };
  const names = podNames(ctx.hostNames);
  list.forEach((p: unknown, i: number) => {
    const field = `${key("pods")}[${i}]`;
    const obj: Raw = p && typeof p === "object" ? (p as Raw) : {};
    unknownKeys(field, obj, POD_KEYS, problems);
    const name = checkName(field, obj.name, names, seen, problems);
    if (name === undefined) return;
    seen.set(name, i);
    const host = placement(field, p, obj, ctx, problems);
    if (host === undefined) return;
    if (obj.server !== undefined && typeof obj.server !== "boolean") {
      problems.push(
        problem(
          `${field}.server`,
          obj.server,
          "server must be true or false",
          "write true to run the echo server in this pod",
        ),
      );
      return;
    }
    out.push({ name, host, server: obj.server === true });
  });
  return out;
}

/** The host a pod runs on: the one it names, or the first matching its nodeSelector. */
function placement(
  field: string,
  written: unknown,
  obj: Raw,
  ctx: PodsContext,
  problems: Problem[],
): string | undefined {
  const bad = (f: string, value: unknown, message: string, fix: string) => {
    problems.push({ field: f, value: shown(value), message, fix });
    return undefined;
  };
  if (obj.host !== undefined && obj.nodeSelector !== undefined)
    return bad(
      `${field}.nodeSelector`,
      obj.nodeSelector,
      `the pod also names a host (${shown(obj.host)}): one placement would silently win`,
      `keep one: remove ${field}.nodeSelector to run it on ${shown(obj.host)}, or remove ${field}.host`,
    );
  if (obj.host !== undefined) {
    // A host refused for its own name or address is reported there; its pods are not a second cause.
    if (ctx.written.has(obj.host) && !ctx.hostNames.has(obj.host as string)) return undefined;
    if (typeof obj.host !== "string" || !ctx.hostNames.has(obj.host))
      return bad(`${field}.host`, obj.host, "no such host", `use one of ${[...ctx.hostNames].join(", ")}`);
    return obj.host;
  }
  if (obj.nodeSelector === undefined)
    return bad(
      field,
      written,
      "a pod needs a host or a nodeSelector",
      'add "host": "<host name>" or "nodeSelector": {"<label>": "<value>"}',
    );
  const sel = obj.nodeSelector;
  if (!sel || typeof sel !== "object" || Array.isArray(sel))
    return bad(
      `${field}.nodeSelector`,
      sel,
      "nodeSelector must be a map of labels",
      'write e.g. {"worker": "no-1"}',
    );
  const want = Object.entries(sel as Raw).map(([k, v]) => [k, String(v)] as const);
  const host = ctx.hosts.find((h) => want.every(([k, v]) => h.labels[k] === v))?.name;
  if (!host)
    return bad(
      `${field}.nodeSelector`,
      sel,
      "no host has these labels",
      `label a host in ${key("hosts")} (labels: {...}) or pick a host with "host"`,
    );
  return host;
}
