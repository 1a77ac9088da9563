// The lab report: what was built and what the packets proved, as Markdown and as an HTML page with a
// topology picture (report-svg.ts). Pure rendering; writeReports puts both files in the stack's run folder.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ECHO_PORT, type LabPlan } from "../lab/topology.ts";
import { MODE_SPECS } from "../modes.ts";
import { describePacket } from "./capture.ts";
import { escapeHtml, renderTopologySvg } from "./report-svg.ts";
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
