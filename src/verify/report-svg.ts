// The report's topology picture: hosts as boxes on the underlay bar (one line per subnet), pods below
// their hosts, BGP sessions and tunnels as arcs above. Pure rendering, SVG text.
import { ECHO_PORT, type LabPlan } from "../lab/topology.ts";
import { ENCAPSULATIONS, MODE_SPECS, type Encapsulation } from "../modes.ts";
import type { RunningPod } from "./expectations.ts";
import type { LabReport } from "./lab.ts";

export function escapeHtml(s: string): string {
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
const GAP = 30;
const HOST_Y = 150;
const BUS_Y = 260;
const BUS_GAP = 14;
const BUS_COLORS = ["#555", "#b9770e"];

/** A box on the underlay: a lab host, the router, or the outside host. */
interface Box {
  name: string;
  addr: string;
  rr: boolean;
  subnets: number[];
}

/** Where everything goes: the boxes, their width, the picture's size, the top of the pods' rows. */
interface Layout {
  boxes: Box[];
  boxW: number;
  width: number;
  height: number;
  podTop: number;
  /** The left edge of box `i`. */
  x: (i: number) => number;
}

const hostLabel = (h: { name: string; rr: boolean }) => `${h.name}${h.rr ? " (RR)" : ""}`;
const podLabel = (p: RunningPod) => `${p.name}${p.server ? ` :${ECHO_PORT}` : ""}`;

function boxesOf(plan: LabPlan): Box[] {
  const subnetIndex = (cidr: string) =>
    Math.max(
      0,
      plan.subnets.findIndex((s) => s.cidr === cidr),
    );
  const boxes: Box[] = plan.hosts.map((h) => ({
    name: h.name,
    addr: h.address,
    rr: Boolean(h.rrClusterId),
    subnets: [subnetIndex(h.subnet)],
  }));
  if (plan.router)
    boxes.push({
      name: "router",
      addr: plan.router.legs.map((l) => l.address).join(" / "),
      rr: false,
      subnets: plan.router.legs.map((_, i) => i),
    });
  boxes.push({ name: "outside", addr: plan.outside.address, rr: false, subnets: [0] });
  return boxes;
}

function layout(plan: LabPlan, pods: readonly RunningPod[]): Layout {
  const boxes = boxesOf(plan);
  // Padding: host text 10 px from the box's edge; pod text 8 px inside a pod box 10 px inside the host's.
  const boxW = Math.min(
    BOX_MAX_W,
    Math.max(
      BOX_MIN_W,
      ...boxes.map((h) => Math.max(textWidthBound(hostLabel(h), 13, true), textWidthBound(h.addr, 13)) + 20),
      ...pods.map((p) => Math.max(textWidthBound(podLabel(p), 13, true), textWidthBound(p.ip, 12)) + 36),
    ),
  );
  const podRows = Math.max(1, ...plan.hosts.map((h) => pods.filter((p) => p.host === h.name).length));
  return {
    boxes,
    boxW,
    width: Math.max(boxes.length * (boxW + GAP) + GAP, 600),
    height: 330 + (plan.subnets.length - 1) * 14 + podRows * 42,
    podTop: BUS_Y + (plan.subnets.length - 1) * BUS_GAP,
    x: (i) => GAP + i * (boxW + GAP),
  };
}

/** BGP sessions between boxes, each pair once: blue when Established, dashed when pods travel plain. */
function sessionArcs(L: Layout, report: LabReport, kind: Encapsulation | undefined): string[] {
  const S: string[] = [];
  const seen = new Set<string>();
  for (const [host, peers] of Object.entries(report.bgp)) {
    for (const p of peers) {
      const a = L.boxes.findIndex((h) => h.name === host);
      const b = L.boxes.findIndex((h) => h.addr === p.address);
      if (a < 0 || b < 0) continue;
      const k = [Math.min(a, b), Math.max(a, b)].join("-");
      if (seen.has(k)) continue;
      seen.add(k);
      const x1 = L.x(a) + L.boxW / 2;
      const x2 = L.x(b) + L.boxW / 2;
      const lift = 20 + Math.abs(b - a) * 28;
      const up = p.info.startsWith("Established");
      S.push(
        `<path d="M ${x1} ${HOST_Y} Q ${(x1 + x2) / 2} ${HOST_Y - lift * 2} ${x2} ${HOST_Y}" fill="none" stroke="${up ? "#2471a3" : "#c0392b"}" stroke-width="2" stroke-dasharray="${kind === "plain" || !kind ? "6 4" : "none"}"/>`,
      );
    }
  }
  return S;
}

/**
 * Tunnels: between every pair of hosts (ipip, vxlan), or only across subnets where the mode encapsulates
 * only there (crosssubnet).
 */
function tunnelArcs(L: Layout, plan: LabPlan, kind: Encapsulation | undefined): string[] {
  const { wire } = MODE_SPECS[plan.mode];
  const mixed = wire.sameSubnet !== wire.crossSubnet;
  const { color } = ENCAPSULATIONS[kind ?? "plain"];
  const tunnelled = (a: number, b: number) =>
    mixed ? plan.hosts[a]!.subnet !== plan.hosts[b]!.subnet : kind === "ipip" || kind === "vxlan";
  if (!(kind === "ipip" || kind === "vxlan" || mixed)) return [];
  const S: string[] = [];
  for (let a = 0; a < plan.hosts.length; a++)
    for (let b = a + 1; b < plan.hosts.length; b++) {
      if (!tunnelled(a, b)) continue;
      const x1 = L.x(a) + L.boxW / 2;
      const x2 = L.x(b) + L.boxW / 2;
      S.push(
        `<path d="M ${x1} ${HOST_Y} Q ${(x1 + x2) / 2} ${HOST_Y - 30 - (b - a) * 30} ${x2} ${HOST_Y}" fill="none" stroke="${mixed ? "#c0392b" : color}" stroke-width="3"/>`,
      );
    }
  return S;
}

/** The title and the legend of the arcs. */
function heading(plan: LabPlan, report: LabReport, kind: Encapsulation | undefined): string[] {
  const { wire } = MODE_SPECS[plan.mode];
  const mixed = wire.sameSubnet !== wire.crossSubnet;
  const { color, arc: label } = ENCAPSULATIONS[kind ?? "plain"];
  const legend = mixed
    ? `dashed: BGP sessions; red: ${ENCAPSULATIONS[wire.crossSubnet].name} tunnels, only between hosts in different subnets`
    : `arcs: ${label}s between hosts`;
  return [
    `<text x="${GAP}" y="24" font-size="16" font-weight="bold">${escapeHtml(`${report.stack}: ${report.mode} mode`)}</text>`,
    `<text x="${GAP}" y="44" fill="${color}">${escapeHtml(legend)}</text>`,
  ];
}

/** Underlay bus: one line per subnet (bridge), the labels under the last one. */
function underlayBus(L: Layout, plan: LabPlan): string[] {
  return plan.subnets.flatMap((sn, i) => {
    const y = BUS_Y + i * BUS_GAP;
    return [
      `<line x1="${GAP / 2}" y1="${y}" x2="${L.width - GAP / 2}" y2="${y}" stroke="${BUS_COLORS[i] ?? "#555"}" stroke-width="4"/>`,
      `<text x="${GAP / 2 + i * (L.width / 2)}" y="${L.podTop + 18}" fill="${BUS_COLORS[i] ?? "#555"}">underlay ${escapeHtml(sn.cidr)} (bridge ${sn.bridge} in ${escapeHtml(plan.switchNetns)})</text>`,
    ];
  });
}

/** Box `i`: its links down to the bus, its rectangle and labels, and its pods below. */
function boxWithPods(L: Layout, pods: readonly RunningPod[], h: Box, i: number): string[] {
  const S: string[] = [];
  const hx = L.x(i);
  h.subnets.forEach((sn, k) => {
    const lx = hx + L.boxW / 2 + (h.subnets.length > 1 ? (k - 0.5) * 40 : 0);
    S.push(
      `<line x1="${lx}" y1="${HOST_Y + 60}" x2="${lx}" y2="${BUS_Y + sn * BUS_GAP}" stroke="${BUS_COLORS[sn] ?? "#555"}" stroke-width="2"/>`,
    );
  });
  // Each box is a group: its rectangle, then the labels that must stay inside it.
  S.push(
    `<g class="box host">`,
    `<rect x="${hx}" y="${HOST_Y}" width="${L.boxW}" height="60" rx="8" fill="${h.name === "outside" || h.name === "router" ? "#eeeeee" : h.rr ? "#fdebd0" : "#d6eaf8"}" stroke="#333"/>`,
    fittedText(hx + 10, HOST_Y + 22, hostLabel(h), L.boxW - 20, { size: 13, bold: true }),
    fittedText(hx + 10, HOST_Y + 42, h.addr, L.boxW - 20, { size: 13 }),
    `</g>`,
  );
  pods
    .filter((p) => p.host === h.name)
    .forEach((p, j) => {
      // Name and address on two lines: "busybox-1 10.244.139.64" does not fit one line of a pod box.
      const py = L.podTop + 40 + j * 42;
      S.push(
        `<g class="box pod">`,
        `<rect x="${hx + 10}" y="${py}" width="${L.boxW - 20}" height="36" rx="5" fill="#d5f5e3" stroke="#1e8449"/>`,
        fittedText(hx + 18, py + 15, podLabel(p), L.boxW - 36, { size: 13, bold: true }),
        fittedText(hx + 18, py + 30, p.ip, L.boxW - 36, { size: 12 }),
        `</g>`,
      );
    });
  return S;
}

/** SVG topology: hosts as boxes on the underlay bar, pods below, tunnels or BGP sessions as arcs. */
export function renderTopologySvg(plan: LabPlan, pods: readonly RunningPod[], report: LabReport): string {
  const L = layout(plan, pods);
  const kind = report.capture?.packet?.kind;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${L.width}" height="${L.height}" viewBox="0 0 ${L.width} ${L.height}" font-family="sans-serif" font-size="13">`,
    `<rect x="0" y="0" width="${L.width}" height="${L.height}" fill="#fbfbf8"/>`,
    ...sessionArcs(L, report, kind),
    ...tunnelArcs(L, plan, kind),
    ...heading(plan, report, kind),
    ...underlayBus(L, plan),
    ...L.boxes.flatMap((h, i) => boxWithPods(L, pods, h, i)),
    "</svg>",
  ].join("\n");
}
