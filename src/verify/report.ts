// The lab report: what was built and what the packets proved, as Markdown and as an HTML page with a
// topology picture (hosts on the underlay, pods under their hosts, tunnels and BGP sessions). Pure
// rendering; writeReports puts both files in the stack's run folder.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ECHO_PORT, type LabPlan } from "../lab/topology.ts";
import { describePacket } from "./capture.ts";
import type { RunningPod } from "./expectations.ts";
import type { Category, LabReport } from "./lab.ts";

const CATEGORY_TITLES: Record<Category, string> = {
  underlay: "Underlay: host to host",
  "pod-pod": "Pod to pod",
  "node-pod": "Node to pod",
  tcp: "TCP (HTTP to the echo server)",
  nat: "natOutgoing",
  outside: "Outside router (BGP peer)",
  routes: "Routes (from the datastore)",
  devices: "Devices",
  capture: "Capture on the underlay",
  bgp: "BGP sessions",
};

const MODE_STORY: Record<string, string> = {
  ipip: "Pod packets between nodes travel inside IP-in-IP (protocol 4) through tunl0.",
  bgp: "Pod packets between nodes travel unencapsulated; every node learns the others' pod blocks over BGP.",
  vxlan: "Pod packets between nodes travel inside VXLAN (UDP 4789) through vxlan.calico; no BGP.",
  crosssubnet: "Pod packets travel plain inside a subnet and in IP-in-IP across subnets.",
};

export function renderMarkdown(plan: LabPlan, pods: readonly RunningPod[], report: LabReport): string {
  const L: string[] = [];
  const passed = report.checks.filter((c) => c.ok).length;
  L.push(`# Lab "${report.stack}" (${report.mode})`, "");
  L.push(MODE_STORY[report.mode] ?? "", "");
  L.push(
    `**${report.ok ? "Verified" : "FAILED"}**: ${passed} of ${report.checks.length} checks passed ` +
      `in ${(report.durationMs / 1000).toFixed(1)} s (${report.verifiedAt}).`,
    "",
  );
  L.push("## Hosts and pods", "", "| host | underlay | pods |", "| --- | --- | --- |");
  for (const h of plan.hosts) {
    const mine = pods
      .filter((p) => p.host === h.name)
      .map((p) => `${p.name} ${p.ip}${p.server ? ` :${ECHO_PORT}` : ""}`);
    L.push(
      `| ${h.name}${h.rrClusterId ? " (route reflector)" : ""} | ${h.cidr} | ${mine.join(", ") || "-"} |`,
    );
  }
  L.push(`| outside | ${plan.outside.cidr} | - |`, "");
  if (report.capture) {
    L.push("## What the packets showed", "");
    L.push(
      `A ping from ${report.capture.from} to ${report.capture.to}, captured on the underlay bridge: ` +
        `**${describePacket(report.capture.packet)}**.`,
      "",
    );
    if (report.capture.packet) L.push("```", report.capture.packet.line, "```", "");
  }
  L.push("## Checks", "");
  for (const cat of Object.keys(CATEGORY_TITLES) as Category[]) {
    const cs = report.checks.filter((c) => c.category === cat);
    if (cs.length === 0) continue;
    const ok = cs.filter((c) => c.ok).length;
    L.push(`### ${CATEGORY_TITLES[cat]} (${ok}/${cs.length})`, "");
    L.push("| | check | expected | seen |", "| --- | --- | --- | --- |");
    for (const c of cs) {
      const esc = (s: string) => s.replace(/\|/g, "\\|");
      L.push(
        `| ${c.ok ? "ok" : "**FAIL**"} | ${esc(c.name)}${c.crossNode ? " (cross-node)" : ""} | ${esc(c.expected)} | ${esc(c.seen)} |`,
      );
    }
    L.push("");
  }
  L.push("## Routes per host", "");
  for (const [h, lines] of Object.entries(report.routes)) {
    L.push(`${h}:`, "```", ...lines, "```", "");
  }
  if (Object.keys(report.bgp).length > 0) {
    L.push("## BGP peers per host", "");
    for (const [h, peers] of Object.entries(report.bgp)) {
      L.push(`${h}: ${peers.map((p) => `${p.address} (${p.type}) ${p.info}`).join("; ") || "none"}`, "");
    }
  }
  return L.join("\n");
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** SVG topology: hosts as boxes on the underlay bar, pods below, tunnels or BGP sessions as arcs. */
export function renderTopologySvg(plan: LabPlan, pods: readonly RunningPod[], report: LabReport): string {
  const boxW = 170;
  const gap = 30;
  const hosts = [...plan.hosts.map((h) => ({ name: h.name, addr: h.address, rr: Boolean(h.rrClusterId) }))];
  hosts.push({ name: "outside", addr: plan.outside.address, rr: false });
  const width = Math.max(hosts.length * (boxW + gap) + gap, 600);
  const podRows = Math.max(1, ...plan.hosts.map((h) => pods.filter((p) => p.host === h.name).length));
  const height = 330 + podRows * 42;
  const x = (i: number) => gap + i * (boxW + gap);
  const hostY = 150;
  const busY = 260;
  const S: string[] = [];
  S.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
  );
  S.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#fbfbf8"/>`);
  // Sessions or tunnels between hosts: arcs above the boxes.
  const kind = report.capture?.packet?.kind;
  const color = kind === "ipip" ? "#c0392b" : kind === "vxlan" ? "#8e44ad" : "#2471a3";
  const label = kind === "ipip" ? "IPIP tunnel" : kind === "vxlan" ? "VXLAN tunnel" : "BGP session";
  const seen = new Set<string>();
  for (const [host, peers] of Object.entries(report.bgp)) {
    for (const p of peers) {
      const a = hosts.findIndex((h) => h.name === host);
      const b = hosts.findIndex((h) => h.addr === p.address);
      if (a < 0 || b < 0) continue;
      const k = [Math.min(a, b), Math.max(a, b)].join("-");
      if (seen.has(k)) continue;
      seen.add(k);
      const x1 = x(a) + boxW / 2;
      const x2 = x(b) + boxW / 2;
      const lift = 20 + Math.abs(b - a) * 28;
      const up = p.info.startsWith("Established");
      S.push(
        `<path d="M ${x1} ${hostY} Q ${(x1 + x2) / 2} ${hostY - lift * 2} ${x2} ${hostY}" fill="none" stroke="${up ? "#2471a3" : "#c0392b"}" stroke-width="2" stroke-dasharray="${kind === "plain" || !kind ? "6 4" : "none"}"/>`,
      );
    }
  }
  if (kind === "ipip" || kind === "vxlan") {
    for (let a = 0; a < plan.hosts.length; a++)
      for (let b = a + 1; b < plan.hosts.length; b++) {
        const x1 = x(a) + boxW / 2;
        const x2 = x(b) + boxW / 2;
        S.push(
          `<path d="M ${x1} ${hostY} Q ${(x1 + x2) / 2} ${hostY - 30 - (b - a) * 30} ${x2} ${hostY}" fill="none" stroke="${color}" stroke-width="3"/>`,
        );
      }
  }
  S.push(
    `<text x="${gap}" y="24" font-size="16" font-weight="bold">${escapeHtml(`${report.stack}: ${report.mode} mode`)}</text>`,
  );
  S.push(`<text x="${gap}" y="44" fill="${color}">${escapeHtml(`arcs: ${label}s between hosts`)}</text>`);
  // Underlay bus.
  S.push(
    `<line x1="${gap / 2}" y1="${busY}" x2="${width - gap / 2}" y2="${busY}" stroke="#555" stroke-width="4"/>`,
  );
  S.push(
    `<text x="${gap / 2}" y="${busY + 18}" fill="#555">underlay ${escapeHtml(plan.underlayCidr)} (bridge ${plan.bridge} in ${escapeHtml(plan.switchNetns)})</text>`,
  );
  hosts.forEach((h, i) => {
    const hx = x(i);
    S.push(
      `<line x1="${hx + boxW / 2}" y1="${hostY + 60}" x2="${hx + boxW / 2}" y2="${busY}" stroke="#555" stroke-width="2"/>`,
    );
    S.push(
      `<rect x="${hx}" y="${hostY}" width="${boxW}" height="60" rx="8" fill="${h.name === "outside" ? "#eeeeee" : h.rr ? "#fdebd0" : "#d6eaf8"}" stroke="#333"/>`,
    );
    S.push(
      `<text x="${hx + 10}" y="${hostY + 22}" font-weight="bold">${escapeHtml(h.name)}${h.rr ? " (RR)" : ""}</text>`,
    );
    S.push(`<text x="${hx + 10}" y="${hostY + 42}">${escapeHtml(h.addr)}</text>`);
    pods
      .filter((p) => p.host === h.name)
      .forEach((p, j) => {
        // Name and address on two lines: "busybox-1 10.244.139.64" does not fit one line of a pod box.
        const py = busY + 40 + j * 42;
        S.push(
          `<rect x="${hx + 10}" y="${py}" width="${boxW - 20}" height="36" rx="5" fill="#d5f5e3" stroke="#1e8449"/>`,
        );
        S.push(
          `<text x="${hx + 18}" y="${py + 15}" font-weight="bold">${escapeHtml(p.name)}${p.server ? ` :${ECHO_PORT}` : ""}</text>`,
        );
        S.push(`<text x="${hx + 18}" y="${py + 30}" font-size="12">${escapeHtml(p.ip)}</text>`);
      });
  });
  S.push("</svg>");
  return S.join("\n");
}

export function renderHtml(plan: LabPlan, pods: readonly RunningPod[], report: LabReport): string {
  const passed = report.checks.filter((c) => c.ok).length;
  const rows = report.checks
    .map(
      (c) =>
        `<tr class="${c.ok ? "ok" : "fail"}"><td>${c.ok ? "ok" : "FAIL"}</td><td>${escapeHtml(c.category)}</td><td>${escapeHtml(c.name)}${c.crossNode ? " <em>(cross-node)</em>" : ""}</td><td>${escapeHtml(c.expected)}</td><td>${escapeHtml(c.seen)}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>calico-lab: ${escapeHtml(report.stack)}</title>
<style>
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 13px; }
td, th { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
tr.fail td { background: #fadbd8; }
.verdict { font-size: 18px; font-weight: bold; color: ${report.ok ? "#1e8449" : "#c0392b"}; }
pre { background: #f4f4f4; padding: 8px; overflow-x: auto; }
</style></head><body>
<h1>Lab "${escapeHtml(report.stack)}" — ${escapeHtml(report.mode)} mode</h1>
<p>${escapeHtml(MODE_STORY[report.mode] ?? "")}</p>
<p class="verdict">${report.ok ? "Verified" : "FAILED"}: ${passed} of ${report.checks.length} checks passed in ${(report.durationMs / 1000).toFixed(1)} s</p>
${renderTopologySvg(plan, pods, report)}
${report.capture ? `<h2>What the packets showed</h2><p>${escapeHtml(describePacket(report.capture.packet))}</p>${report.capture.packet ? `<pre>${escapeHtml(report.capture.packet.line)}</pre>` : ""}` : ""}
<h2>Checks</h2>
<table><tr><th></th><th>category</th><th>check</th><th>expected</th><th>seen</th></tr>
${rows}
</table>
<h2>Routes per host</h2>
${Object.entries(report.routes)
  .map(([h, lines]) => `<h3>${escapeHtml(h)}</h3><pre>${escapeHtml(lines.join("\n"))}</pre>`)
  .join("\n")}
</body></html>
`;
}

export async function writeReports(
  runDir: string,
  plan: LabPlan,
  pods: readonly RunningPod[],
  report: LabReport,
): Promise<{ markdown: string; html: string }> {
  await mkdir(runDir, { recursive: true });
  const markdown = join(runDir, "report.md");
  const html = join(runDir, "report.html");
  await writeFile(markdown, renderMarkdown(plan, pods, report));
  await writeFile(html, renderHtml(plan, pods, report));
  return { markdown, html };
}
