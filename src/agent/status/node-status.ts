// `calicoctl node status`, read from BIRD: `birdc show protocols` → Calico's peer table. Pure.
import type { PeerType } from "../confd/peers.ts";

export interface PeerStatus {
  address: string;
  type: PeerType;
  /** BIRD's protocol state: up, start, down… */
  state: string;
  since: string;
  /** BGP state and last error, e.g. Established, Active, Connect, "Idle Received: …". */
  info: string;
  protocol: string;
}

const TYPE_BY_PREFIX: Record<string, PeerType> = {
  Mesh: "node-to-node mesh",
  Global: "global",
  Node: "node specific",
};

/** Parses `birdc show protocols` (BIRD 2) output; keeps BGP protocols named the way confd names them. */
export function parseBirdProtocols(text: string): PeerStatus[] {
  const peers: PeerStatus[] = [];
  for (const line of text.split("\n")) {
    const m = /^(Mesh|Global|Node)_(\d+)_(\d+)_(\d+)_(\d+)\s+BGP\s+\S+\s+(\S+)\s+(\S+)\s*(.*)$/.exec(
      line.trim(),
    );
    if (!m) continue;
    peers.push({
      protocol: `${m[1]}_${m[2]}_${m[3]}_${m[4]}_${m[5]}`,
      address: `${m[2]}.${m[3]}.${m[4]}.${m[5]}`,
      type: TYPE_BY_PREFIX[m[1]!]!,
      state: m[6]!,
      since: m[7]!,
      info: m[8]!.trim().replace(/\s+/g, " "),
    });
  }
  return peers;
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)) + 2);
  const sep = "+" + widths.map((w) => "-".repeat(w)).join("+") + "+";
  const center = (s: string, w: number) => {
    const left = Math.floor((w - s.length) / 2);
    return " ".repeat(left) + s + " ".repeat(w - s.length - left);
  };
  const row = (cells: string[], fmt: (s: string, w: number) => string) =>
    "|" + cells.map((c, i) => fmt(c, widths[i]!)).join("|") + "|";
  return [
    sep,
    row(headers, center),
    sep,
    ...rows.map((r) => row(r, (s, w) => " " + s + " ".repeat(w - s.length - 1))),
    sep,
  ].join("\n");
}

/** Calico's layout: process line, IPv4 table, IPv6 line. */
export function formatNodeStatus(running: boolean, peers: readonly PeerStatus[]): string {
  const lines = [running ? "Calico process is running." : "Calico process is not running.", ""];
  lines.push("IPv4 BGP status");
  if (peers.length === 0) lines.push("No IPv4 peers found.");
  else
    lines.push(
      table(
        ["PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO"],
        peers.map((p) => [p.address, p.type, p.state, p.since, p.info]),
      ),
    );
  lines.push("", "IPv6 BGP status", "No IPv6 peers found.", "");
  return lines.join("\n");
}
