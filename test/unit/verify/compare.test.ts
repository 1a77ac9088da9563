// The pure half of scripts/compare: ping and iperf3 parsing (recorded on this machine), ratios, the table.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  compareColumns,
  formatBps,
  parseIperf3Json,
  parsePingSummary,
  ratio,
  renderCompareTable,
  withRatios,
  type StackMeasurement,
} from "../../../src/verify/compare.ts";

// ping -n -q -c 3 -i 0.05 between two hosts of the cx-bgp lab.
const PING_OK = `PING 192.168.19.167 (192.168.19.167) 56(84) bytes of data.

--- 192.168.19.167 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 116ms
rtt min/avg/max/mdev = 0.064/0.069/0.072/0.003 ms
`;
const PING_NONE = `PING 10.9.9.9 (10.9.9.9) 56(84) bytes of data.

--- 10.9.9.9 ping statistics ---
2 packets transmitted, 0 received, 100% packet loss, time 1023ms
`;
const PING_ERRORS = `--- 10.244.93.1 ping statistics ---
20 packets transmitted, 18 received, +2 errors, 10% packet loss, time 960ms
rtt min/avg/max/mdev = 0.050/0.080/0.200/0.010 ms
`;
// iperf3 -J -t 1 between the same hosts (end sums as iperf 3.12 prints them).
const IPERF_OK = JSON.stringify({
  start: { tcp_mss_default: 1448 },
  end: {
    sum_sent: { seconds: 1.012647, bytes: 549191680, bits_per_second: 4338662376.919104, retransmits: 137 },
    sum_received: { seconds: 1.013791, bytes: 549189424, bits_per_second: 4333748664.172398 },
  },
});
const IPERF_REFUSED = JSON.stringify({
  start: { connected: [], version: "iperf 3.12" },
  intervals: [],
  end: {},
  error: "unable to connect to server: Connection refused",
});

function measurement(
  over: Partial<StackMeasurement> & Pick<StackMeasurement, "stack" | "mode">,
): StackMeasurement {
  const path = (avgMs: number, bps: number) => ({
    from: "a",
    to: "b",
    address: "x",
    errors: [],
    latency: {
      transmitted: 20,
      received: 20,
      lossPercent: 0,
      minMs: avgMs / 2,
      avgMs,
      maxMs: avgMs * 2,
      mdevMs: 0,
    },
    throughput: { bitsPerSecond: bps, sentBitsPerSecond: bps, retransmits: 0, seconds: 3 },
  });
  return withRatios({
    encapsulation: "plain",
    podMtu: 1440,
    underlayMtu: 1500,
    pod: path(0.1, 2e9),
    host: path(0.05, 4e9),
    ...over,
  });
}

describe("compare: parsing", () => {
  it("ping summary: counts, loss and min/avg/max/mdev", () => {
    assert.deepEqual(parsePingSummary(PING_OK), {
      transmitted: 3,
      received: 3,
      lossPercent: 0,
      minMs: 0.064,
      avgMs: 0.069,
      maxMs: 0.072,
      mdevMs: 0.003,
    });
  });
  it("ping summary with errors counted", () => {
    const s = parsePingSummary(PING_ERRORS);
    assert.equal(s.received, 18);
    assert.equal(s.lossPercent, 10);
    assert.equal(s.avgMs, 0.08);
  });
  it("ping with no reply says so", () => {
    assert.throws(() => parsePingSummary(PING_NONE), /no reply to any ping \(100% loss\)/);
    assert.throws(() => parsePingSummary("connect: Network is unreachable"), /no ping summary/);
  });
  it("iperf3 JSON: receiver throughput, retransmits, MSS", () => {
    assert.deepEqual(parseIperf3Json(IPERF_OK), {
      bitsPerSecond: 4333748664.172398,
      sentBitsPerSecond: 4338662376.919104,
      retransmits: 137,
      seconds: 1.013791,
      mss: 1448,
    });
  });
  it("iperf3 errors surface iperf3's own text", () => {
    assert.throws(
      () => parseIperf3Json(IPERF_REFUSED),
      /iperf3: unable to connect to server: Connection refused/,
    );
    assert.throws(() => parseIperf3Json("iperf3: error - unable to connect"), /printed no JSON/);
  });
});

describe("compare: ratios and table", () => {
  it("ratio is undefined when a side is missing or zero", () => {
    assert.equal(ratio(2, 4), 0.5);
    assert.equal(ratio(undefined, 4), undefined);
    assert.equal(ratio(2, 0), undefined);
  });
  it("pod ÷ host for latency and throughput", () => {
    const m = measurement({ stack: "bgp", mode: "bgp" });
    assert.equal(m.latencyRatio, 2);
    assert.equal(m.throughputRatio, 0.5);
  });
  it("columns in mode order; IPIP says why it is missing", () => {
    const cols = compareColumns(
      [
        measurement({
          stack: "vxlan",
          mode: "vxlan",
          encapsulation: "vxlan",
          tunnel: { device: "vxlan.calico", mtu: 1410 },
        }),
        measurement({ stack: "cx-bgp", mode: "bgp" }),
      ],
      ["ipip", "bgp", "vxlan"],
      { ipip: "needs a kernel with ipip (run in a VM)" },
    );
    assert.deepEqual(
      cols.map((c) => c.title),
      ["IPIP", "BGP (cx-bgp)", "VXLAN"],
    );
    assert.deepEqual(cols[0], { title: "IPIP", unavailable: "needs a kernel with ipip (run in a VM)" });
  });
  it("the table: one row per figure, ratios next to pod figures, unavailable columns filled", () => {
    const cols = compareColumns([measurement({ stack: "bgp", mode: "bgp" })], ["ipip", "bgp"], {
      ipip: "needs a kernel with ipip (run in a VM)",
    });
    const table = renderCompareTable(cols);
    const lines = table.split("\n");
    assert.match(lines[0]!, /^\| +\| IPIP +\| BGP +\|$/);
    assert.match(table, /\| stack +\| needs a kernel with ipip \(run in a VM\) \| bgp +\|/);
    assert.match(table, /\| encapsulation seen +\| - +\| plain +\|/);
    assert.match(table, /pod<->pod ping min\/avg +\| .* \| 0\.050 \/ 0\.100 ms \(x2\.00\) \|/);
    assert.match(table, /pod<->pod iperf3 +\| .* \| 2\.00 Gbit\/s \(x0\.50\) +\|/);
    assert.match(table, /tunnel device MTU +\| .* \| none +\|/);
    assert.ok(!table.includes("errors"));
    // Every row has the same number of cells.
    assert.equal(new Set(lines.map((l) => l.split("|").length)).size, 1);
  });
  it("errors get their own row", () => {
    const m = measurement({ stack: "bgp", mode: "bgp" });
    m.pod.errors.push("iperf3: unable to connect");
    assert.match(
      renderCompareTable(compareColumns([m], [], {})),
      /\| errors +\| pod: iperf3: unable to connect \|/,
    );
  });
  it("formats throughput", () => {
    assert.equal(formatBps(4.3337e9), "4.33 Gbit/s");
    assert.equal(formatBps(812e6), "812 Mbit/s");
    assert.equal(formatBps(undefined), "-");
  });
});
