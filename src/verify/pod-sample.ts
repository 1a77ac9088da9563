// Which pairs the verification pings. A small lab pings everything: every ordered pod pair, every host to
// every pod, every host to every host. A big one (more than ALL_PAIRS_UP_TO nodes) samples what routing can
// get wrong: each node talks to the nodes at distances 1, 2, 4, 8, … around the ring of nodes (in both
// directions, since every node does), one pod pair per node pair, rotating through the pods so that every
// pod sends and receives; plus, per node, each pod to the next one on the same node. 50 nodes × 4 pods:
// 300 node pairs instead of 2,450, and 500 pod pings instead of 39,800. Pure.
import { podPairs, type PodPair, type RunningPod } from "./expectations.ts";

/** Up to this many nodes every pair is checked. */
export const ALL_PAIRS_UP_TO = 12;

export const POD_PAIR_MODES = ["all", "cross-node-sample"] as const;
export type PodPairMode = (typeof POD_PAIR_MODES)[number];

/** The automatic choice: all pairs for small labs, the sample for big ones. */
export function podPairModeFor(nodeCount: number): PodPairMode {
  return nodeCount > ALL_PAIRS_UP_TO ? "cross-node-sample" : "all";
}

/** Offsets around the ring each node reaches: all others for a small lab, powers of two for a big one. */
export function ringOffsets(n: number): number[] {
  if (n <= ALL_PAIRS_UP_TO) return Array.from({ length: Math.max(0, n - 1) }, (_, i) => i + 1);
  const out: number[] = [];
  for (let d = 1; d < n; d *= 2) out.push(d);
  return out;
}

/** Ordered node-index pairs [from, to] the sample covers. */
export function sampledNodePairs(n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let a = 0; a < n; a++) for (const d of ringOffsets(n)) out.push([a, (a + d) % n]);
  return out;
}

/** Pods grouped by node, in first-seen order (pods keep their order inside a node). */
function byNode(pods: readonly RunningPod[]): [string, RunningPod[]][] {
  const m = new Map<string, RunningPod[]>();
  for (const p of pods) m.set(p.host, [...(m.get(p.host) ?? []), p]);
  return [...m];
}

export function sampledPodPairs(pods: readonly RunningPod[]): PodPair[] {
  const nodes = byNode(pods);
  const out: PodPair[] = [];
  // Same node: a ring through each node's pods (a node with one pod has no same-node pair).
  for (const [, ps] of nodes)
    if (ps.length > 1)
      ps.forEach((p, i) => out.push({ from: p, to: ps[(i + 1) % ps.length]!, crossNode: false }));
  // Across nodes: one pair per sampled node pair; a node's k-th outgoing pair uses its (k mod n)-th pod, and
  // its k-th incoming pair its (k mod n)-th pod, so sources and destinations rotate through every pod.
  const sent = new Map<number, number>();
  const received = new Map<number, number>();
  for (const [a, b] of sampledNodePairs(nodes.length)) {
    const as = nodes[a]![1];
    const bs = nodes[b]![1];
    const i = sent.get(a) ?? 0;
    const j = received.get(b) ?? 0;
    sent.set(a, i + 1);
    received.set(b, j + 1);
    out.push({ from: as[i % as.length]!, to: bs[j % bs.length]!, crossNode: true });
  }
  return out;
}

export function selectPodPairs(pods: readonly RunningPod[], mode: PodPairMode = "all"): PodPair[] {
  return mode === "cross-node-sample" ? sampledPodPairs(pods) : podPairs(pods);
}

/**
 * Node to pod: every host to every pod in a small lab; in a big one, every host to its own pods and to one
 * pod on each node the ring sample reaches (rotating through that node's pods).
 */
export function selectNodePodPairs<H extends { name: string }>(
  hosts: readonly H[],
  pods: readonly RunningPod[],
  mode: PodPairMode,
): { h: H; p: RunningPod }[] {
  if (mode === "all") return hosts.flatMap((h) => pods.map((p) => ({ h, p })));
  const podsOn = new Map(byNode(pods));
  const out: { h: H; p: RunningPod }[] = [];
  const received = new Map<string, number>();
  for (const h of hosts) for (const p of podsOn.get(h.name) ?? []) out.push({ h, p });
  for (const [a, b] of sampledNodePairs(hosts.length)) {
    const target = podsOn.get(hosts[b]!.name);
    if (!target || target.length === 0) continue;
    const k = received.get(hosts[b]!.name) ?? 0;
    received.set(hosts[b]!.name, k + 1);
    out.push({ h: hosts[a]!, p: target[k % target.length]! });
  }
  return out;
}
