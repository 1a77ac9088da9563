// The HTML lab report as a browser shows it: rendered from realistic LabReports (the rr stack's five hosts
// with route reflectors and the outside router; a VXLAN lab with one failed check), screenshotted by a
// headless Chromium, and the PNG checked to be a real picture of the page's size. Skips, saying why, only
// when Chromium is not installed and cannot be (apt-get install chromium).
//   CALICO_LAB_KEEP_SCREENSHOTS=<dir> keeps the PNGs for a look.
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { readLabConfig as parseLabConfig } from "../../../src/config/read.ts";
import { tryRun } from "../../../src/effects/exec.ts";
import { planLab, underlayPingPairs, type LabPlan } from "../../../src/lab/topology.ts";
import type { PeerStatus } from "../../../src/agent/status/node-status.ts";
import type { CapturedPacket } from "../../../src/verify/capture.ts";
import { podPairs, type RunningPod } from "../../../src/verify/expectations.ts";
import type { Check, LabReport } from "../../../src/verify/lab.ts";
import { renderHtml } from "../../../src/verify/report.ts";

const WIDTH = 1400;
const HEIGHT = 1000;

async function findChromium(): Promise<string | undefined> {
  for (const bin of ["chromium", "chromium-browser"]) {
    const r = await tryRun(["which", bin]);
    if (r.exitCode === 0) return r.stdout.trim();
  }
  return undefined;
}

/** Chromium, installed from Debian when missing (allowed on the lab machine); undefined if that fails. */
async function ensureChromium(): Promise<{ bin?: string; why?: string }> {
  const found = await findChromium();
  if (found) return { bin: found };
  const policy = await tryRun(["apt-cache", "policy", "chromium"]);
  if (!/Candidate: (?!\(none\))/.test(policy.stdout))
    return { why: `no chromium package in the apt sources: ${policy.stdout.trim() || policy.stderr.trim()}` };
  const install = await tryRun(["apt-get", "install", "-y", "--no-install-recommends", "chromium"], {
    env: { DEBIAN_FRONTEND: "noninteractive" },
    timeoutMs: 600_000,
  });
  const bin = await findChromium();
  return bin
    ? { bin }
    : { why: `apt-get install chromium failed: ${install.stderr.trim().split("\n").pop()}` };
}

function plan(stack: string, raw: Record<string, unknown>): LabPlan {
  const parsed = parseLabConfig(stack, raw);
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.problems));
  return planLab(parsed.config);
}

function peer(address: string, type: PeerStatus["type"], info = "Established"): PeerStatus {
  return {
    protocol: `Node_${address.replace(/\./g, "_")}`,
    address,
    type,
    state: "up",
    since: "14:35:31",
    info,
  };
}

/** A LabReport shaped like verifyLab's: underlay, routes, devices, BGP, pod-pod, capture. */
function report(
  p: LabPlan,
  pods: RunningPod[],
  bgp: Record<string, PeerStatus[]>,
  packet: CapturedPacket,
  fail?: string,
): LabReport {
  const checks: Check[] = [];
  for (const u of underlayPingPairs(p))
    checks.push({
      category: "underlay",
      name: `underlay ping ${u.from} -> ${u.to} (${u.address})`,
      ok: true,
      expected: "an ICMP echo reply",
      seen: "reply in 0.05 ms",
    });
  for (const h of p.hosts)
    checks.push({
      category: "routes",
      name: `routes on ${h.name}`,
      ok: true,
      expected: "remote blocks",
      seen: `all ${pods.length} present`,
    });
  for (const [h, peers] of Object.entries(bgp))
    checks.push({
      category: "bgp",
      name: `BGP sessions of ${h}`,
      ok: true,
      expected: "every session Established",
      seen: `${peers.length} Established (${peers.map((x) => x.address).join(", ")})`,
    });
  for (const pair of podPairs(pods)) {
    const name = `${pair.from.name} (${pair.from.host}) -> ${pair.to.name} (${pair.to.host}) ${pair.to.ip}`;
    const ok = name !== fail;
    checks.push({
      category: "pod-pod",
      name,
      ok,
      expected: "an ICMP echo reply",
      seen: ok
        ? "reply in 0.08 ms"
        : "no reply after 48 attempts: 1 packets transmitted, 0 received, 100% packet loss",
      crossNode: pair.crossNode,
    });
  }
  const cross = podPairs(pods).find((x) => x.crossNode)!;
  checks.push({
    category: "capture",
    name: `underlay capture ${cross.from.name} -> ${cross.to.name}`,
    ok: true,
    expected: packet.kind,
    seen: packet.kind,
  });
  const routes: Record<string, string[]> = {};
  p.hosts.forEach((h, i) => {
    routes[h.name] = [
      "default dev eth0 scope link",
      ...p.hosts
        .filter((o) => o !== h)
        .map((o, j) => `10.244.${64 + j * 8}.0/26 via ${o.address} dev eth0 proto bird`),
      `blackhole 10.244.${i}.0/26 proto bird`,
      `${p.underlayCidr} dev eth0 proto kernel scope link src ${h.address}`,
    ];
  });
  return {
    stack: p.stack,
    mode: p.mode,
    ok: !fail,
    checks,
    capture: { from: cross.from.name, to: cross.to.name, packet },
    bgp,
    routes,
    expectedRoutes: {},
    verifiedAt: "2026-11-23T14:42:25.922Z",
    durationMs: 5012,
  };
}

function rrFixture() {
  const p = plan("rr", {
    mode: "bgp",
    asNumber: 63400,
    hosts: [
      { name: "master", address: "192.168.19.165" },
      { name: "rr-1", address: "192.168.19.161" },
      { name: "rr-2", address: "192.168.19.162" },
      { name: "worker-1", address: "192.168.19.166", labels: { worker: "no-1" } },
      { name: "worker-2", address: "192.168.19.167", labels: { worker: "no-2" } },
    ],
    routeReflectors: ["rr-1", "rr-2"],
    outside: { address: "192.168.19.200", asNumber: 65001 },
  });
  // One /26 block per host, as IPAM hands them out; pods take the next address in their host's block.
  const blocks: Record<string, string> = {
    "rr-1": "10.244.78.128",
    "rr-2": "10.244.12.64",
    "worker-1": "10.244.139.64",
    "worker-2": "10.244.93.0",
  };
  const used: Record<string, number> = {};
  const pods = p.pods.map((x) => {
    const [a, b, c, d] = (blocks[x.host] ?? "10.244.200.0").split(".");
    const n = (used[x.host] = (used[x.host] ?? -1) + 1);
    return { name: x.name, host: x.host, server: x.server, ip: `${a}.${b}.${c}.${Number(d) + n}` };
  });
  const rrs = p.hosts.filter((h) => h.rrClusterId);
  const bgp: Record<string, PeerStatus[]> = {};
  for (const h of p.hosts) {
    bgp[h.name] = h.rrClusterId
      ? [
          ...p.hosts
            .filter((o) => o !== h)
            .map((o) => peer(o.address, o.rrClusterId ? "global" : "node specific")),
          peer(p.outside.address, "global"),
        ]
      : rrs.map((r) => peer(r.address, "node specific"));
  }
  const packet: CapturedPacket = {
    kind: "plain",
    srcMac: "92:9d:14:b4:1f:cf",
    dstMac: "3e:53:70:1f:ad:be",
    line: "14:42:25.922692 92:9d:14:b4:1f:cf > 3e:53:70:1f:ad:be, ethertype IPv4 (0x0800), length 98: 10.244.139.64 > 10.244.93.1: ICMP echo request, id 2417, seq 1, length 64",
  };
  return { p, pods, r: report(p, pods, bgp, packet) };
}

function vxlanFixture() {
  const p = plan("vxlan", { mode: "vxlan" });
  const ips = ["10.244.139.64", "10.244.93.1", "10.244.139.65", "10.244.93.0"];
  const pods = p.pods.map((x, i) => ({ name: x.name, host: x.host, server: x.server, ip: ips[i]! }));
  const packet: CapturedPacket = {
    kind: "vxlan",
    srcMac: "52:8c:33:79:6a:32",
    dstMac: "e2:97:d1:83:70:90",
    outerSrc: "192.168.19.166",
    outerDst: "192.168.19.167",
    line: "14:26:34.808196 52:8c:33:79:6a:32 > e2:97:d1:83:70:90, ethertype IPv4 (0x0800), length 148: 192.168.19.166.39909 > 192.168.19.167.4789: VXLAN, flags [I] (0x08), vni 4096 66:73:f9:32:2d:08 > 66:70:f9:2d:74:08, ethertype IPv4 (0x0800), length 98: 10.244.139.65 > 10.244.93.1: ICMP echo request, id 32038, seq 1, length 64",
  };
  const fail = `busybox-2 (worker-2) -> busybox-1 (worker-1) ${ips[0]}`;
  return { p, pods, r: report(p, pods, {}, packet, fail) };
}

/** The longest names the config accepts (hosts 15 characters, pods 23, an echo server's " :8080"). */
function longNamesFixture() {
  const p = plan("long-names", {
    mode: "bgp",
    hosts: [
      { name: "control-plane-1", address: "192.168.19.165" },
      { name: "worker-node-001", address: "192.168.19.166" },
      { name: "worker-node-002", address: "192.168.19.167" },
    ],
    pods: [
      { name: "frontend-canary-7f9c6d5", host: "worker-node-001" },
      { name: "wwwwwwwwwwwwwwwwwwwwwww", host: "worker-node-001" },
      { name: "payments-api-gateway-01", host: "worker-node-002", server: true },
    ],
  });
  const ips = ["10.244.193.194", "10.244.193.195", "10.244.222.255"];
  const pods = p.pods.map((x, i) => ({ name: x.name, host: x.host, server: x.server, ip: ips[i]! }));
  const bgp: Record<string, PeerStatus[]> = {};
  for (const h of p.hosts)
    bgp[h.name] = p.hosts.filter((o) => o !== h).map((o) => peer(o.address, "node-to-node mesh"));
  const packet: CapturedPacket = {
    kind: "plain",
    srcMac: "e6:81:ae:40:31:94",
    dstMac: "12:8a:d1:63:dd:c0",
    line: "16:50:08.173228 e6:81:ae:40:31:94 > 12:8a:d1:63:dd:c0, ethertype IPv4 (0x0800), length 98: 10.244.193.194 > 10.244.222.255: ICMP echo request, id 8167, seq 1, length 64",
  };
  return { p, pods, r: report(p, pods, bgp, packet) };
}

/** The routed crosssubnet stack on a kernel without ipip: a router, two subnets, checks skipped. */
function crosssubnetFixture() {
  const p = plan("crosssubnet", {
    mode: "crosssubnet",
    routedCidr: "192.168.20.0/24",
    hosts: [
      { name: "master", address: "192.168.19.165" },
      { name: "worker-1", address: "192.168.19.166", labels: { worker: "no-1" } },
      { name: "worker-2", address: "192.168.20.167", labels: { worker: "no-2" } },
      { name: "worker-3", address: "192.168.20.168", labels: { worker: "no-3" } },
    ],
  });
  const ips = ["10.244.139.65", "10.244.93.1", "10.244.193.194", "10.244.139.66", "10.244.193.193"];
  const pods = p.pods.map((x, i) => ({ name: x.name, host: x.host, server: x.server, ip: ips[i]! }));
  const bgp: Record<string, PeerStatus[]> = {};
  for (const h of p.hosts)
    bgp[h.name] = p.hosts.filter((o) => o !== h).map((o) => peer(o.address, "node-to-node mesh"));
  const packet: CapturedPacket = {
    kind: "plain",
    srcMac: "e6:81:ae:40:31:94",
    dstMac: "12:8a:d1:63:dd:c0",
    line: "16:50:08.173228 e6:81:ae:40:31:94 > 12:8a:d1:63:dd:c0, ethertype IPv4 (0x0800), length 98: 10.244.93.1 > 10.244.193.194: ICMP echo request, id 8167, seq 1, length 64",
  };
  const r = report(p, pods, bgp, packet);
  const why = "this kernel has no ipip module, so traffic across subnets cannot be encapsulated here";
  for (const c of r.checks)
    if (c.category === "pod-pod" && c.name.includes("busybox-1") && !c.name.includes("busybox-4"))
      Object.assign(c, { seen: `skipped: ${why}`, skipped: why });
  return { p, pods, r };
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(buf: Buffer): { width: number; height: number } {
  assert.deepEqual(
    [...buf.subarray(0, 8)],
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    "PNG signature",
  );
  assert.equal(buf.subarray(12, 16).toString("ascii"), "IHDR");
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

let dir: string;
let chromium: { bin?: string; why?: string };

async function screenshot(html: string, name: string): Promise<Buffer> {
  const page = join(dir, `${name}.html`);
  const png = join(dir, `${name}.png`);
  await writeFile(page, html);
  const r = await tryRun(
    [
      chromium.bin!,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--hide-scrollbars",
      `--user-data-dir=${join(dir, "profile")}`,
      `--screenshot=${png}`,
      `--window-size=${WIDTH},${HEIGHT}`,
      pathToFileURL(page).href,
    ],
    { timeoutMs: 90_000 },
  );
  const st = await stat(png).catch(() => undefined);
  assert.ok(
    st,
    `chromium wrote no screenshot (exit ${r.exitCode}): ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`,
  );
  const keep = process.env.CALICO_LAB_KEEP_SCREENSHOTS;
  if (keep) {
    await mkdir(keep, { recursive: true });
    await copyFile(png, join(keep, `${name}.png`));
  }
  return readFile(png);
}

/**
 * The labels that run out of their box as Chromium lays the page out: a script appended to the page
 * compares each box's rectangle with its texts' boxes (getBBox) and writes the result into the DOM,
 * which --dump-dom prints.
 */
async function labelsOutsideBoxes(html: string, name: string): Promise<{ boxes: number; outside: string[] }> {
  const probe = `<script>
const outside = [];
const boxes = document.querySelectorAll("svg g.box");
for (const g of boxes) {
  const b = g.querySelector("rect").getBBox();
  for (const t of g.querySelectorAll("text")) {
    const r = t.getBBox();
    if (r.x < b.x || r.y < b.y || r.x + r.width > b.x + b.width || r.y + r.height > b.y + b.height)
      outside.push(t.textContent + ": " + [r.x, r.y, r.x + r.width, r.y + r.height].map(Math.round).join(",") +
        " outside " + [b.x, b.y, b.x + b.width, b.y + b.height].join(","));
  }
}
const pre = document.createElement("pre");
pre.id = "label-probe";
pre.textContent = JSON.stringify({ boxes: boxes.length, outside });
document.body.append(pre);
</script>`;
  const page = join(dir, `${name}-probe.html`);
  await writeFile(page, html.replace("</body>", `${probe}</body>`));
  const r = await tryRun(
    [
      chromium.bin!,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      `--user-data-dir=${join(dir, "profile")}`,
      `--window-size=${WIDTH},${HEIGHT}`,
      "--dump-dom",
      pathToFileURL(page).href,
    ],
    { timeoutMs: 90_000 },
  );
  const m = /<pre id="label-probe">(.*?)<\/pre>/s.exec(r.stdout);
  assert.ok(m, `chromium printed no probe result (exit ${r.exitCode}): ${r.stderr.trim().split("\n").pop()}`);
  const text = m[1]!.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  return JSON.parse(text) as { boxes: number; outside: string[] };
}

describe("HTML report in a headless browser", { timeout: 700_000 }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "calico-lab-report-"));
    chromium = await ensureChromium();
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const [name, fixture] of [
    ["rr", rrFixture],
    ["vxlan", vxlanFixture],
    ["crosssubnet", crosssubnetFixture],
    ["long-names", longNamesFixture],
  ] as const) {
    it(`${name}: the page renders to a ${WIDTH}x${HEIGHT} screenshot with content`, async (t) => {
      if (!chromium.bin) return t.skip(`chromium unavailable: ${chromium.why}`);
      const { p, pods, r } = fixture();
      const html = renderHtml(p, pods, r);
      assert.match(html, /<svg /);
      const png = await screenshot(html, name);
      assert.deepEqual(pngSize(png), { width: WIDTH, height: HEIGHT });
      // A blank white page compresses to a few KB; the topology, headings and table take far more.
      assert.ok(png.length > 40_000, `screenshot is only ${png.length} bytes: is the page blank?`);
    });

    it(`${name}: every host and pod label stays inside its box`, async (t) => {
      if (!chromium.bin) return t.skip(`chromium unavailable: ${chromium.why}`);
      const { p, pods, r } = fixture();
      const probe = await labelsOutsideBoxes(renderHtml(p, pods, r), name);
      // Hosts, the outside host (and the router), and pods: each drawn as a box.
      assert.equal(probe.boxes, p.hosts.length + 1 + (p.router ? 1 : 0) + pods.length);
      assert.deepEqual(probe.outside, []);
    });
  }

  it("crosssubnet: the routed underlay and the skipped checks are on the page", () => {
    const { p, pods, r } = crosssubnetFixture();
    const html = renderHtml(p, pods, r);
    for (const want of ["192.168.20.0/24 (bridge br1", ">router<", "192.168.19.1 / 192.168.20.1", "skipped"])
      assert.ok(html.includes(want), `the page shows ${want}`);
    assert.match(html, /passed, \d+ skipped, in 5\.0 s/);
  });
});
