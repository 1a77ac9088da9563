// The pure half of `scripts/compare`: parsing ping and iperf3 output, ratios to the underlay, and the
// side-by-side table of modes (IPIP | BGP | VXLAN). The measuring itself lives in src/cli/compare.ts.

import { MODE_SPECS, MODES, isMode } from "../modes.ts";

export interface PingStats {
  transmitted: number;
  received: number;
  lossPercent: number;
  minMs: number;
  avgMs: number;
  maxMs: number;
  mdevMs: number;
}

/** iputils ping's summary: "N packets transmitted, M received, X% packet loss" and "rtt min/avg/max/mdev = a/b/c/d ms". */
export function parsePingSummary(text: string): PingStats {
  const counts =
    /(\d+) packets transmitted, (\d+) (?:packets )?received,(?:[^,]*,)? ([\d.]+)% packet loss/.exec(text);
  if (!counts) throw new Error(`no ping summary in: ${text.trim().split("\n").slice(-3).join(" | ")}`);
  const rtt =
    /(?:rtt|round-trip) min\/avg\/max\/(?:mdev|stddev) = ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(
      text,
    );
  if (!rtt) throw new Error(`no reply to any ping (${counts[3]}% loss)`);
  return {
    transmitted: Number(counts[1]),
    received: Number(counts[2]),
    lossPercent: Number(counts[3]),
    minMs: Number(rtt[1]),
    avgMs: Number(rtt[2]),
    maxMs: Number(rtt[3]),
    mdevMs: Number(rtt[4]),
  };
}

export interface IperfResult {
  /** Receiver-side throughput (what arrived), bits per second. */
  bitsPerSecond: number;
  sentBitsPerSecond: number;
  retransmits: number;
  seconds: number;
  /** Path MTU the sender's TCP saw, when iperf3 reports it. */
  mss?: number;
}

/** `iperf3 -J` client output; throws with iperf3's own error text when the run failed. */
export function parseIperf3Json(text: string): IperfResult {
  let j: {
    error?: string;
    start?: { tcp_mss_default?: number };
    end?: {
      sum_received?: { bits_per_second?: number; seconds?: number };
      sum_sent?: { bits_per_second?: number; retransmits?: number; seconds?: number };
    };
  };
  try {
    j = JSON.parse(text) as typeof j;
  } catch {
    throw new Error(`iperf3 printed no JSON: ${text.trim().slice(0, 200)}`);
  }
  if (j.error) throw new Error(`iperf3: ${j.error}`);
  const recv = j.end?.sum_received;
  const sent = j.end?.sum_sent;
  if (!recv?.bits_per_second || !sent) throw new Error("iperf3 JSON has no end.sum_received");
  return {
    bitsPerSecond: recv.bits_per_second,
    sentBitsPerSecond: sent.bits_per_second ?? 0,
    retransmits: sent.retransmits ?? 0,
    seconds: recv.seconds ?? sent.seconds ?? 0,
    ...(j.start?.tcp_mss_default ? { mss: j.start.tcp_mss_default } : {}),
  };
}

/** A / B, or undefined when either is missing or B is zero. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || b === 0 || !Number.isFinite(a) || !Number.isFinite(b))
    return undefined;
  return a / b;
}

export interface PathMeasurement {
  from: string;
  to: string;
  address: string;
  latency?: PingStats;
  throughput?: IperfResult;
  /** What went wrong measuring this path, when something did. */
  errors: string[];
}

export interface StackMeasurement {
  stack: string;
  mode: string;
  /** What a capture on the underlay showed during a cross-node pod ping: ipip, vxlan, plain, or none. */
  encapsulation: string;
  podMtu?: number;
  /** The tunnel device on the client pod's node, if the mode uses one. */
  tunnel?: { device: string; mtu: number };
  underlayMtu?: number;
  pod: PathMeasurement;
  host: PathMeasurement;
  /** pod ÷ host: >1 means pods are slower (latency), <1 means pods carry less (throughput). */
  latencyRatio?: number;
  throughputRatio?: number;
}

export function withRatios(m: Omit<StackMeasurement, "latencyRatio" | "throughputRatio">): StackMeasurement {
  const latencyRatio = ratio(m.pod.latency?.avgMs, m.host.latency?.avgMs);
  const throughputRatio = ratio(m.pod.throughput?.bitsPerSecond, m.host.throughput?.bitsPerSecond);
  return {
    ...m,
    ...(latencyRatio !== undefined ? { latencyRatio } : {}),
    ...(throughputRatio !== undefined ? { throughputRatio } : {}),
  };
}

/** A column of the table: a measured stack, or a mode that could not be measured and why. */
export type CompareColumn =
  { title: string; measurement: StackMeasurement } | { title: string; unavailable: string };

const titleOfMode = (mode: string): string => (isMode(mode) ? MODE_SPECS[mode].title : mode);

/**
 * Columns in mode order (IPIP, BGP, VXLAN, then others), one per measured stack; a mode in `always`
 * with no measured stack gets a column saying why (`reasons[mode]`, e.g. the kernel lacks ipip).
 */
export function compareColumns(
  measured: readonly StackMeasurement[],
  always: readonly string[],
  reasons: Record<string, string>,
): CompareColumn[] {
  const cols: (CompareColumn & { order: number })[] = [];
  const titleOf = (m: StackMeasurement) => {
    const t = titleOfMode(m.mode);
    return m.stack === m.mode ? t : `${t} (${m.stack})`;
  };
  const orderOf = (mode: string) => {
    const i = (MODES as readonly string[]).indexOf(mode);
    return i < 0 ? MODES.length : i;
  };
  for (const m of measured) cols.push({ title: titleOf(m), measurement: m, order: orderOf(m.mode) });
  for (const mode of always)
    if (!measured.some((m) => m.mode === mode))
      cols.push({
        title: titleOfMode(mode),
        unavailable: reasons[mode] ?? "not measured",
        order: orderOf(mode),
      });
  return cols.sort((a, b) => a.order - b.order).map(({ order: _order, ...c }) => c as CompareColumn);
}

export function formatBps(bps: number | undefined): string {
  if (bps === undefined) return "-";
  if (bps >= 1e9) return `${(bps / 1e9).toFixed(2)} Gbit/s`;
  return `${(bps / 1e6).toFixed(0)} Mbit/s`;
}

const ms = (s: PingStats | undefined) => (s ? `${s.minMs.toFixed(3)} / ${s.avgMs.toFixed(3)} ms` : "-");
const times = (r: number | undefined) => (r === undefined ? "" : ` (x${r.toFixed(2)})`);

/** Rows of the side-by-side table: [label, cell per column]. */
export function compareRows(cols: readonly CompareColumn[]): string[][] {
  // An unavailable column says why once, on its first row, and "-" below.
  let first = true;
  const cell = (f: (m: StackMeasurement) => string) => {
    const cells = cols.map((c) => ("measurement" in c ? f(c.measurement) : first ? c.unavailable : "-"));
    first = false;
    return cells;
  };
  const rows: string[][] = [
    ["stack", ...cell((m) => m.stack)],
    ["encapsulation seen", ...cell((m) => m.encapsulation)],
    ["pod eth0 MTU", ...cell((m) => (m.podMtu !== undefined ? String(m.podMtu) : "-"))],
    ["tunnel device MTU", ...cell((m) => (m.tunnel ? `${m.tunnel.device} ${m.tunnel.mtu}` : "none"))],
    ["underlay MTU", ...cell((m) => (m.underlayMtu !== undefined ? String(m.underlayMtu) : "-"))],
    ["host<->host ping min/avg", ...cell((m) => ms(m.host.latency))],
    ["pod<->pod ping min/avg", ...cell((m) => `${ms(m.pod.latency)}${times(m.latencyRatio)}`)],
    ["host<->host iperf3", ...cell((m) => formatBps(m.host.throughput?.bitsPerSecond))],
    [
      "pod<->pod iperf3",
      ...cell((m) => `${formatBps(m.pod.throughput?.bitsPerSecond)}${times(m.throughputRatio)}`),
    ],
    [
      "pod<->pod TCP retransmits",
      ...cell((m) => (m.pod.throughput ? String(m.pod.throughput.retransmits) : "-")),
    ],
  ];
  const errs = cols.some(
    (c) => "measurement" in c && [...c.measurement.pod.errors, ...c.measurement.host.errors].length,
  );
  if (errs)
    rows.push([
      "errors",
      ...cell(
        (m) =>
          [...m.host.errors.map((e) => `host: ${e}`), ...m.pod.errors.map((e) => `pod: ${e}`)].join("; ") ||
          "-",
      ),
    ]);
  return rows;
}

/** A Markdown table (readable as plain text too). Ratios are pod ÷ host on the same pair of nodes. */
export function renderCompareTable(cols: readonly CompareColumn[]): string {
  const rows = compareRows(cols);
  const header = ["", ...cols.map((c) => c.title)];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(3, ...all.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)].join("\n");
}
