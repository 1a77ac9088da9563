// Which pod pairs the verification pings. "all" is every ordered pair (n·(n−1): 39,800 pings for 200 pods);
// "cross-node-sample" keeps what routing can get wrong — every ordered pair of nodes, in both directions —
// with one pod pair each, rotating through the pods so that every pod sends and receives; plus, per node,
// each pod to the next one on the same node. 50 nodes × 4 pods: 2,450 + 200 = 2,650 pings. Pure.
import { podPairs, type PodPair, type RunningPod } from "./expectations.ts";

export const POD_PAIR_MODES = ["all", "cross-node-sample"] as const;
export type PodPairMode = (typeof POD_PAIR_MODES)[number];

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
  // Across nodes: one pair per ordered node pair; a node's k-th outgoing pair uses its (k mod n)-th pod, and
  // its k-th incoming pair its (k mod n)-th pod, so sources and destinations rotate through every pod.
  const sent = new Map<string, number>();
  const received = new Map<string, number>();
  for (const [a, as] of nodes)
    for (const [b, bs] of nodes) {
      if (a === b) continue;
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
