// The lab report: what was built and what the packets proved, as Markdown and as an HTML page with a
// topology picture (hosts on the underlay, pods under their hosts, tunnels and BGP sessions). Pure
// rendering; writeReports puts both files in the stack's run folder.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ECHO_PORT, type LabPlan } from "../lab/topology.ts";
import { ENCAPSULATIONS, MODE_SPECS } from "../modes.ts";
import { describePacket } from "./capture.ts";
import type { RunningPod } from "./expectations.ts";
import { MARKDOWN_SECTIONS } from "./checks/index.ts";
import type { LabReport } from "./lab.ts";

export function renderMarkdown(plan: LabPlan, pods: readonly RunningPod[], report: LabReport): string {
  const L: string[] = [];
  L.push(`# Lab "${report.stack}" (${report.mode})`, "");
  L.push(MODE_SPECS[report.mode].story, "");
  L.push(`**${report.ok ? "Verified" : "FAILED"}**: ${verdict(report)} (${report.verifiedAt}).`, "");
  const reasons = [...new Set(report.checks.flatMap((c) => (c.skipped ? [c.skipped] : [])))];
  for (const r of reasons) L.push(`Skipped checks: ${r}.`, "");
  if (report.sampling) L.push(`Sampled: ${report.sampling}.`, "");
  L.push("## Hosts and pods", "", "| host | underlay | pods |", "| --- | --- | --- |");
  for (const h of plan.hosts) {
    const mine = pods
      .filter((p) => p.host === h.name)
      .map((p) => `${p.name} ${p.ip}${p.server ? ` :${ECHO_PORT}` : ""}`);
    L.push(
      `| ${h.name}${h.rrClusterId ? " (route reflector)" : ""} | ${h.cidr} | ${mine.join(", ") || "-"} |`,
    );
  }
  if (plan.router)
    L.push(`| router | ${plan.router.legs.map((l) => l.cidr).join(", ")} (forwards, knows no pods) | - |`);
  L.push(`| outside | ${plan.outside.cidr} | - |`, "");
  const captures = report.captures ?? (report.capture ? [report.capture] : []);
  if (captures.length > 0) {
    L.push("## What the packets showed", "");
    for (const c of captures) {
      L.push(
        `A ping from ${c.from} to ${c.to}, captured on the underlay bridge: **${describePacket(c.packet)}**.`,
        "",
      );
      if (c.packet) L.push("```", c.packet.line, "```", "");
    }
  }
  L.push("## Checks", "");
  for (const { category, title } of MARKDOWN_SECTIONS) {
    const cs = report.checks.filter((c) => c.category === category);
    if (cs.length === 0) continue;
    const ok = cs.filter((c) => c.ok).length;
    L.push(`### ${title} (${ok}/${cs.length})`, "");
    L.push("| | check | expected | seen |", "| --- | --- | --- | --- |");
    for (const c of cs) {
      const esc = (s: string) => s.replace(/\|/g, "\\|");
      L.push(
        `| ${c.skipped ? "skipped" : c.ok ? "ok" : "**FAIL**"} | ${esc(c.name)}${c.crossNode ? " (cross-node)" : ""} | ${esc(c.expected)} | ${esc(c.seen)} |`,
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

/** "40 of 42 checks passed, 2 skipped, in 3.1 s". */
export function verdict(report: LabReport): string {
  const skipped = report.checks.filter((c) => c.skipped).length;
  const passed = report.checks.filter((c) => c.ok && !c.skipped).length;
  return (
    `${passed} of ${report.checks.length} checks passed${skipped ? `, ${skipped} skipped` : ""}, ` +
    `in ${(report.durationMs / 1000).toFixed(1)} s`
  );
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * A width no common sans-serif rendering of `text` exceeds (px): per character, a bound a little above
 * DejaVu Sans, the widest of them (bold: m 1.04 em, w 0.92 em, capitals up to 1.0 em, digits 0.70 em,
 * other lower-case letters up to 0.71 em).
 */
export function textWidthBound(text: string, fontSize: number, bold = false): number {
  let em = 0;
  for (const c of text) {
    if (/[mwMW@]/.test(c)) em += 1.06;
    else if (/[A-Z%&]/.test(c)) em += 0.86;
    else em += bold ? 0.72 : 0.66;
  }
  return Math.ceil(em * fontSize);
}

/**
 * A <text> that stays inside `room` px: at its own size when it fits, else squeezed to exactly `room`
 * (textLength), so a long pod name or address never runs out of its box whatever the font.
 */
function fittedText(
  x: number,
  y: number,
  text: string,
  room: number,
  o: { size: number; bold?: boolean; fill?: string },
): string {
  const attrs = [`x="${x}"`, `y="${y}"`];
  if (o.size !== 13) attrs.push(`font-size="${o.size}"`);
  if (o.bold) attrs.push(`font-weight="bold"`);
  if (o.fill) attrs.push(`fill="${o.fill}"`);
  if (textWidthBound(text, o.size, o.bold) > room)
    attrs.push(`textLength="${room}"`, `lengthAdjust="spacingAndGlyphs"`);
  return `<text ${attrs.join(" ")}>${escapeHtml(text)}</text>`;
}

/** Host boxes grow with their longest label up to this width; longer labels are squeezed into it. */
const BOX_MIN_W = 170;
const BOX_MAX_W = 280;

/** SVG topology: hosts as boxes on the underlay bar, pods below, tunnels or BGP sessions as arcs. */
export function renderTopologySvg(plan: LabPlan, pods: readonly RunningPod[], report: LabReport): string {
  const gap = 30;
  const hostLabel = (h: { name: string; rr: boolean }) => `${h.name}${h.rr ? " (RR)" : ""}`;
  const podLabel = (p: RunningPod) => `${p.name}${p.server ? ` :${ECHO_PORT}` : ""}`;
  type Box = { name: string; addr: string; rr: boolean; subnets: number[] };
  const subnetIndex = (cidr: string) =>
    Math.max(
      0,
      plan.subnets.findIndex((s) => s.cidr === cidr),
    );
  const hosts: Box[] = plan.hosts.map((h) => ({
    name: h.name,
    addr: h.address,
    rr: Boolean(h.rrClusterId),
    subnets: [subnetIndex(h.subnet)],
  }));
  if (plan.router)
    hosts.push({
      name: "router",
      addr: plan.router.legs.map((l) => l.address).join(" / "),
      rr: false,
      subnets: plan.router.legs.map((_, i) => i),
    });
  hosts.push({ name: "outside", addr: plan.outside.address, rr: false, subnets: [0] });
  // Padding: host text 10 px from the box's edge; pod text 8 px inside a pod box 10 px inside the host's.
  const boxW = Math.min(
    BOX_MAX_W,
    Math.max(
      BOX_MIN_W,
      ...hosts.map((h) => Math.max(textWidthBound(hostLabel(h), 13, true), textWidthBound(h.addr, 13)) + 20),
      ...pods.map((p) => Math.max(textWidthBound(podLabel(p), 13, true), textWidthBound(p.ip, 12)) + 36),
    ),
  );
  const width = Math.max(hosts.length * (boxW + gap) + gap, 600);
  const podRows = Math.max(1, ...plan.hosts.map((h) => pods.filter((p) => p.host === h.name).length));
  const height = 330 + (plan.subnets.length - 1) * 14 + podRows * 42;
  const x = (i: number) => gap + i * (boxW + gap);
  const hostY = 150;
  const busY = 260;
  const busGap = 14;
  const busColors = ["#555", "#b9770e"];
  const podTop = busY + (plan.subnets.length - 1) * busGap;
  const S: string[] = [];
  S.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
  );
  S.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#fbfbf8"/>`);
  // Sessions or tunnels between hosts: arcs above the boxes.
  const kind = report.capture?.packet?.kind;
  const { color, arc: label } = ENCAPSULATIONS[kind ?? "plain"];
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
  // Tunnels: between every pair of hosts (ipip, vxlan), or only across subnets where the mode encapsulates
  // only there (crosssubnet).
  const { wire } = MODE_SPECS[plan.mode];
  const mixed = wire.sameSubnet !== wire.crossSubnet;
  const tunnelled = (a: number, b: number) =>
    mixed ? plan.hosts[a]!.subnet !== plan.hosts[b]!.subnet : kind === "ipip" || kind === "vxlan";
  if (kind === "ipip" || kind === "vxlan" || mixed) {
    for (let a = 0; a < plan.hosts.length; a++)
      for (let b = a + 1; b < plan.hosts.length; b++) {
        if (!tunnelled(a, b)) continue;
        const x1 = x(a) + boxW / 2;
        const x2 = x(b) + boxW / 2;
        S.push(
          `<path d="M ${x1} ${hostY} Q ${(x1 + x2) / 2} ${hostY - 30 - (b - a) * 30} ${x2} ${hostY}" fill="none" stroke="${mixed ? "#c0392b" : color}" stroke-width="3"/>`,
        );
      }
  }
  S.push(
    `<text x="${gap}" y="24" font-size="16" font-weight="bold">${escapeHtml(`${report.stack}: ${report.mode} mode`)}</text>`,
  );
  const legend = mixed
    ? `dashed: BGP sessions; red: ${ENCAPSULATIONS[wire.crossSubnet].name} tunnels, only between hosts in different subnets`
    : `arcs: ${label}s between hosts`;
  S.push(`<text x="${gap}" y="44" fill="${color}">${escapeHtml(legend)}</text>`);
  // Underlay bus: one line per subnet (bridge), the labels under the last one.
  plan.subnets.forEach((sn, i) => {
    const y = busY + i * busGap;
    S.push(
      `<line x1="${gap / 2}" y1="${y}" x2="${width - gap / 2}" y2="${y}" stroke="${busColors[i] ?? "#555"}" stroke-width="4"/>`,
    );
    S.push(
      `<text x="${gap / 2 + i * (width / 2)}" y="${podTop + 18}" fill="${busColors[i] ?? "#555"}">underlay ${escapeHtml(sn.cidr)} (bridge ${sn.bridge} in ${escapeHtml(plan.switchNetns)})</text>`,
    );
  });
  hosts.forEach((h, i) => {
    const hx = x(i);
    h.subnets.forEach((sn, k) => {
      const lx = hx + boxW / 2 + (h.subnets.length > 1 ? (k - 0.5) * 40 : 0);
      S.push(
        `<line x1="${lx}" y1="${hostY + 60}" x2="${lx}" y2="${busY + sn * busGap}" stroke="${busColors[sn] ?? "#555"}" stroke-width="2"/>`,
      );
    });
    // Each box is a group: its rectangle, then the labels that must stay inside it.
    S.push(
      `<g class="box host">`,
      `<rect x="${hx}" y="${hostY}" width="${boxW}" height="60" rx="8" fill="${h.name === "outside" || h.name === "router" ? "#eeeeee" : h.rr ? "#fdebd0" : "#d6eaf8"}" stroke="#333"/>`,
      fittedText(hx + 10, hostY + 22, hostLabel(h), boxW - 20, { size: 13, bold: true }),
      fittedText(hx + 10, hostY + 42, h.addr, boxW - 20, { size: 13 }),
      `</g>`,
    );
    pods
      .filter((p) => p.host === h.name)
      .forEach((p, j) => {
        // Name and address on two lines: "busybox-1 10.244.139.64" does not fit one line of a pod box.
        const py = podTop + 40 + j * 42;
        S.push(
          `<g class="box pod">`,
          `<rect x="${hx + 10}" y="${py}" width="${boxW - 20}" height="36" rx="5" fill="#d5f5e3" stroke="#1e8449"/>`,
          fittedText(hx + 18, py + 15, podLabel(p), boxW - 36, { size: 13, bold: true }),
          fittedText(hx + 18, py + 30, p.ip, boxW - 36, { size: 12 }),
          `</g>`,
        );
      });
  });
  S.push("</svg>");
  return S.join("\n");
}

function captureHtml(report: LabReport): string {
  const captures = report.captures ?? (report.capture ? [report.capture] : []);
  if (captures.length === 0) return "";
  return (
    "<h2>What the packets showed</h2>" +
    captures
      .map(
        (c) =>
          `<p>${escapeHtml(`${c.from} -> ${c.to}: ${describePacket(c.packet)}`)}</p>` +
          (c.packet ? `<pre>${escapeHtml(c.packet.line)}</pre>` : ""),
      )
      .join("\n")
  );
}

export function renderHtml(plan: LabPlan, pods: readonly RunningPod[], report: LabReport): string {
  const rows = report.checks
    .map(
      (c) =>
        `<tr class="${c.skipped ? "skipped" : c.ok ? "ok" : "fail"}"><td>${c.skipped ? "skipped" : c.ok ? "ok" : "FAIL"}</td><td>${escapeHtml(c.category)}</td><td>${escapeHtml(c.name)}${c.crossNode ? " <em>(cross-node)</em>" : ""}</td><td>${escapeHtml(c.expected)}</td><td>${escapeHtml(c.seen)}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>calico-lab: ${escapeHtml(report.stack)}</title>
<style>
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 13px; }
td, th { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
tr.fail td { background: #fadbd8; }
tr.skipped td { color: #7f8c8d; }
.verdict { font-size: 18px; font-weight: bold; color: ${report.ok ? "#1e8449" : "#c0392b"}; }
pre { background: #f4f4f4; padding: 8px; overflow-x: auto; }
</style></head><body>
<h1>Lab "${escapeHtml(report.stack)}" — ${escapeHtml(report.mode)} mode</h1>
<p>${escapeHtml(MODE_SPECS[report.mode].story)}</p>
<p class="verdict">${report.ok ? "Verified" : "FAILED"}: ${escapeHtml(verdict(report))}</p>
${[...new Set(report.checks.flatMap((c) => (c.skipped ? [c.skipped] : [])))].map((r) => `<p>Skipped checks: ${escapeHtml(r)}.</p>`).join("\n")}
${renderTopologySvg(plan, pods, report)}
${captureHtml(report)}
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
