// What a Kubernetes pod's status says while the lab waits for it to be Ready: ready, still coming, or stuck
// for good (an image the node does not have is never pulled here: there is no registry), and, when the wait
// fails, what was expected against what was seen, with the pod's last event. Pure: it reads kubectl's JSON.

/** The parts of `kubectl get pod -o json` read here. */
export interface PodJson {
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: ContainerStatusJson[];
    initContainerStatuses?: ContainerStatusJson[];
  };
}

interface ContainerStatusJson {
  name: string;
  ready?: boolean;
  state?: {
    waiting?: { reason?: string; message?: string };
    terminated?: { reason?: string; exitCode?: number };
  };
}

/** The parts of `kubectl get events -o json` read here. */
export interface EventsJson {
  items?: { type?: string; reason?: string; message?: string; lastTimestamp?: string; count?: number }[];
}

/** Waiting reasons that no amount of waiting ends on a lab node (images are imported, never pulled). */
const STUCK = new Set(["ErrImageNeverPull", "InvalidImageName", "CreateContainerConfigError"]);

export type PodProgress =
  { kind: "ready"; ip: string } | { kind: "waiting"; seen: string } | { kind: "stuck"; seen: string };

/** One line of what the pod shows: its phase, and each container that is not running with its reason. */
function seenOf(pod: PodJson): string {
  const s = pod.status ?? {};
  const parts = [`phase ${s.phase ?? "unknown"}`];
  for (const c of [...(s.initContainerStatuses ?? []), ...(s.containerStatuses ?? [])]) {
    const w = c.state?.waiting;
    const t = c.state?.terminated;
    if (w?.reason) parts.push(`${c.name} ${w.reason}${w.message ? ` (${w.message})` : ""}`);
    else if (t?.reason && t.reason !== "Completed")
      parts.push(`${c.name} ${t.reason} (exit ${t.exitCode ?? "?"})`);
  }
  return parts.join(", ");
}

export function podProgress(pod: PodJson): PodProgress {
  const s = pod.status ?? {};
  const ready = s.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
  if (ready && s.podIP) return { kind: "ready", ip: s.podIP };
  const statuses = [...(s.initContainerStatuses ?? []), ...(s.containerStatuses ?? [])];
  const stuck = statuses.some((c) => STUCK.has(c.state?.waiting?.reason ?? ""));
  return { kind: stuck ? "stuck" : "waiting", seen: seenOf(pod) };
}

/** The newest event of the pod (warnings first): what kubelet or the scheduler last said of it. */
export function lastEvent(events: EventsJson): string | undefined {
  const items = [...(events.items ?? [])].sort((a, b) =>
    (a.lastTimestamp ?? "").localeCompare(b.lastTimestamp ?? ""),
  );
  const pick = items.filter((e) => e.type === "Warning").at(-1) ?? items.at(-1);
  if (!pick) return undefined;
  const times = pick.count && pick.count > 1 ? ` (${pick.count} times)` : "";
  return `${pick.type ?? "Normal"} ${pick.reason ?? "?"}: ${(pick.message ?? "").trim()}${times}`;
}

/** The failed wait's message: the pod, what was expected, what was seen, its last event, and where to look. */
export function podWaitFailure(o: {
  name: string;
  namespace: string;
  host: string;
  waitedS: number;
  seen: string;
  event: string | undefined;
  stuck: boolean;
  kubectlHint: string;
}): string {
  return [
    `pod ${o.namespace}/${o.name} on ${o.host} is not Ready: ` +
      (o.stuck ? `it cannot start (after ${o.waitedS} s)` : `waited ${o.waitedS} s`),
    `  expected: Running and Ready, with an address from the pool`,
    `  seen: ${o.seen}`,
    `  last event: ${o.event ?? "none"}`,
    `  look: ${o.kubectlHint} -n ${o.namespace} describe pod ${o.name}`,
  ].join("\n");
}

/**
 * How long to wait before asking for a pod's status again: every 3 s for its first 30 s (a pod on a fast
 * node is Ready in seconds), then every 10 s. Each ask is a kubectl process and a TLS handshake the
 * emulated master's API server pays for, four pods at a time, while it starts the very pods asked about.
 */
export function podPollMs(elapsedMs: number): number {
  return elapsedMs < 30_000 ? 3000 : 10_000;
}
