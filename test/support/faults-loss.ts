// Pod traffic lost during a fault, from `ping -D -i 0.05` output: which probes got no reply, and how much
// time that stands for. Pure: parsing and arithmetic only (the pinger is faults-probe.ts).
//
// Resolution: a probe every I ms samples the path; an outage of L ms (half-open) swallows floor(L/I) or
// floor(L/I)+1 probes depending on its phase, so "lost ms" (lost probes x I) is the outage to within one
// interval, and an outage shorter than I may cost one probe or none. Hence "0 ms lost" can only be
// asserted as "at most 1 lost probe", and "<= 100 ms" at 50 ms as "at most 2 lost probes".

export interface PingReply {
  seq: number;
  /** When the reply arrived (ms since the epoch, from ping -D). */
  at: number;
  rttMs: number;
}

const REPLY = /^\[(\d+(?:\.\d+)?)\] \d+ bytes from [0-9.]+: icmp_seq=(\d+) ttl=\d+ time=([0-9.]+) ms\s*$/;
const SUMMARY = /^(\d+) packets transmitted, (\d+) (?:packets )?received/m;

/** One line of `ping -D -n` output → the reply it reports, or null (errors, DUP!, headers, summary). */
export function parsePingReply(line: string): PingReply | null {
  const m = REPLY.exec(line.trim());
  if (!m) return null;
  return { at: Math.round(Number(m[1]) * 1000), seq: Number(m[2]), rttMs: Number(m[3]) };
}

/** "N packets transmitted" from ping's final statistics (printed on SIGINT), or null. */
export function parseTransmitted(text: string): number | null {
  const m = SUMMARY.exec(text);
  return m ? Number(m[1]) : null;
}

export interface Loss {
  /** Probes sent from `fromSeq` on. */
  probes: number;
  lostProbes: number;
  /** lostProbes x the measured interval. */
  lostMs: number;
  /** The measured interval between probes (ping's -i stretches under load). */
  intervalMs: number;
  /** The longest time between two consecutive replies, less one interval (0 when nothing was lost). */
  longestGapMs: number;
  /** Still losing when ping stopped: more than `tailGrace` probes after the last reply went unanswered. */
  ongoing: boolean;
}

export interface LossOptions {
  /** Count probes from this sequence number on (the probes before it were the healthy baseline). */
  fromSeq?: number;
  /** Probes sent after the last reply that are taken as still in flight, not lost. */
  tailGrace?: number;
}

/**
 * Lost probes among seq `fromSeq`..`transmitted`: the ones with no reply. Probes after the last reply
 * are in flight when ping stopped (at most `tailGrace` of them) unless there are more: then the path was
 * still down, and they are lost too (`ongoing`).
 */
export function lossOf(
  replies: readonly PingReply[],
  transmitted: number,
  nominalIntervalMs: number,
  o: LossOptions = {},
): Loss {
  const from = o.fromSeq ?? 1;
  const grace = o.tailGrace ?? 3;
  const got = new Map<number, PingReply>();
  for (const r of replies) if (r.seq >= from && r.seq <= transmitted && !got.has(r.seq)) got.set(r.seq, r);
  const sorted = [...got.values()].sort((a, b) => a.seq - b.seq);
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  let intervalMs = nominalIntervalMs;
  if (first && last && last.seq > first.seq) {
    // Send times (arrival less the round trip) of the first and last answered probes.
    const span = last.at - last.rttMs - (first.at - first.rttMs);
    intervalMs = Math.max(nominalIntervalMs, span / (last.seq - first.seq));
  }
  const probes = Math.max(0, transmitted - from + 1);
  const maxSeq = last?.seq ?? from - 1;
  const tail = transmitted - maxSeq;
  const ongoing = probes > 0 && (last === undefined ? probes > grace : tail > grace);
  const inWindow = Math.max(0, maxSeq - from + 1);
  const lostProbes = inWindow - sorted.length + (ongoing ? tail : 0);
  // Gaps ending in the window, the one from the last baseline reply included.
  const all = [...new Map(replies.filter((r) => r.seq <= transmitted).map((r) => [r.seq, r])).values()];
  all.sort((a, b) => a.seq - b.seq);
  let longest = 0;
  for (let i = 1; i < all.length; i++) {
    const a = all[i - 1]!;
    const b = all[i]!;
    if (b.seq < from) continue;
    const gap = b.at - b.rttMs - (a.at - a.rttMs) - intervalMs;
    if (b.seq - a.seq > 1) longest = Math.max(longest, gap);
  }
  if (ongoing) longest = Math.max(longest, tail * intervalMs);
  return {
    probes,
    lostProbes,
    lostMs: Math.round(lostProbes * intervalMs),
    intervalMs: Math.round(intervalMs * 10) / 10,
    longestGapMs: Math.round(longest),
    ongoing,
  };
}
