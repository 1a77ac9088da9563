// Proof by capture: what a cross-node pod ping looks like on the underlay. The classifier is pure
// (tcpdump -nn -e lines in, a verdict out); `captureDuring` runs tcpdump inside the switch namespace.
import { spawn } from "node:child_process";
import { assertIfName, assertNetnsName } from "../effects/names.ts";

import type { Encapsulation } from "../modes.ts";
export type { Encapsulation } from "../modes.ts";

export interface CapturedPacket {
  kind: Encapsulation;
  /** Link-layer source and destination of the frame on the underlay. */
  srcMac: string;
  dstMac: string;
  /** Underlay addresses of the encapsulating packet (ipip, vxlan). */
  outerSrc?: string;
  outerDst?: string;
  line: string;
}

const MAC = "[0-9a-f]{2}(?::[0-9a-f]{2}){5}";
const IP = "\\d{1,3}(?:\\.\\d{1,3}){3}";

function esc(s: string): string {
  return s.replace(/\./g, "\\.");
}

/** tcpdump prints an encapsulated frame's inner headers on continuation lines (no timestamp): join them. */
export function joinFrames(lines: readonly string[]): string[] {
  const frames: string[] = [];
  for (const line of lines) {
    if (/^\d{2}:\d{2}:\d{2}\.\d+ /.test(line) || frames.length === 0) frames.push(line);
    else frames[frames.length - 1] += ` ${line.trim()}`;
  }
  return frames;
}

/** What each encapsulation looks like to tcpdump: its filter, the outer header's pattern, how to say it. */
const WIRE_FORMS: Record<
  Encapsulation,
  { filter: string; outer?: (inner: string) => RegExp; describe: (p: CapturedPacket) => string }
> = {
  vxlan: {
    filter: "udp port 4789",
    outer: (inner) => new RegExp(`: (${IP})\\.\\d+ > (${IP})\\.4789: VXLAN.*${inner}`),
    describe: (p) => `VXLAN (UDP 4789) ${p.outerSrc} > ${p.outerDst} carrying the pod's ICMP`,
  },
  ipip: {
    filter: "ip proto 4",
    outer: (inner) => new RegExp(`: (${IP}) > (${IP}): ${inner}`),
    describe: (p) => `IP-in-IP (protocol 4) ${p.outerSrc} > ${p.outerDst} carrying the pod's ICMP`,
  },
  plain: {
    filter: "icmp",
    describe: (p) => `plain ICMP between pod addresses, frame ${p.srcMac} > ${p.dstMac}`,
  },
};

/** Finds the first frame that carries an ICMP echo request from `src` to `dst` (pod addresses). */
export function classifyCapture(
  raw: readonly string[],
  src: string,
  dst: string,
): CapturedPacket | undefined {
  const lines = joinFrames(raw);
  const inner = `${esc(src)} > ${esc(dst)}: ICMP echo request`;
  const head = new RegExp(`^\\S+ (${MAC}) > (${MAC}), `);
  const outers = Object.entries(WIRE_FORMS).flatMap(([kind, f]) =>
    f.outer ? [{ kind: kind as Encapsulation, re: f.outer(inner) }] : [],
  );
  for (const line of lines) {
    if (!new RegExp(inner).test(line)) continue;
    const h = head.exec(line);
    if (!h) continue;
    const base = { srcMac: h[1]!, dstMac: h[2]!, line };
    for (const { kind, re } of outers) {
      const m = re.exec(line);
      // An outer header's source is a node, never the pod itself (a plain packet matches IPIP's shape).
      if (m && m[1] !== src) return { kind, outerSrc: m[1]!, outerDst: m[2]!, ...base };
    }
    return { kind: "plain", ...base };
  }
  return undefined;
}

/** What a packet looks like, in words, for check results. */
export function describePacket(p: CapturedPacket | undefined): string {
  return p ? WIRE_FORMS[p.kind].describe(p) : "no matching packet on the underlay";
}

/** The tcpdump filter that sees every encapsulation (and plain ICMP). */
const CAPTURE_FILTER = Object.values(WIRE_FORMS)
  .map((f) => f.filter)
  .join(" or ");

/** How long tcpdump's output must stay unchanged, once it printed something, for a capture to end. */
const QUIET_MS = 40;

/**
 * Runs tcpdump on `iface` in `netns` while `action` runs, and returns the lines it printed.
 * Only ICMP, IPIP and VXLAN are captured; the capture stops shortly after the action ends.
 */
export async function captureDuring(
  netns: string,
  iface: string,
  action: () => Promise<unknown>,
  opts: { maxPackets?: number; settleMs?: number } = {},
): Promise<string[]> {
  const argv = [
    "ip",
    "netns",
    "exec",
    assertNetnsName(netns),
    "tcpdump",
    "-i",
    assertIfName(iface),
    "-nn",
    "-e",
    "-l",
    "-c",
    String(opts.maxPackets ?? 40),
    CAPTURE_FILTER,
  ];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const listening = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`tcpdump did not start in ${netns}: ${err.trim()}`)), 5000);
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
      if (err.includes("listening on")) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once("exit", () => {
      clearTimeout(t);
      reject(new Error(`tcpdump exited in ${netns}: ${err.trim()}`));
    });
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await listening;
    await action();
    // tcpdump prints a packet as it arrives, and the action's packets have all passed when it returns:
    // the capture ends once its output has been quiet for QUIET_MS, and at the latest after settleMs.
    const until = Date.now() + (opts.settleMs ?? 200);
    let seen = -1;
    while (Date.now() < until && child.exitCode === null) {
      if (out.length > 0 && out.length === seen) break;
      seen = out.length;
      await new Promise((r) => setTimeout(r, QUIET_MS));
    }
  } finally {
    if (child.exitCode === null) child.kill("SIGINT");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
  return out.split("\n").filter(Boolean);
}
