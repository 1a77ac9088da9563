// BIRD 2's `birdc show protocols`, read for the BGP sessions calico-node's confd names
// (Mesh_/Node_/Global_<a>_<b>_<c>_<d>). Pure; written from BIRD's output format, not the agent's parser.

export interface BgpSession {
  protocol: string;
  address: string;
  /** What kind of peer confd made it: node-to-node mesh, node specific, global. */
  type: string;
  /** BIRD's protocol state: up, start, down… */
  state: string;
  since: string;
  /** BGP state and last error: Established, Active, Connect, "Idle Received: …". */
  info: string;
}

const PEER_TYPE: Record<string, string> = {
  Mesh: "node-to-node mesh",
  Node: "node specific",
  Global: "global",
};

export function parseBgpSessions(text: string): BgpSession[] {
  const out: BgpSession[] = [];
  for (const raw of text.split("\n")) {
    // name  proto  table  state  since  info…
    const cols = raw.trim().split(/\s+/);
    if (cols.length < 5 || cols[1] !== "BGP") continue;
    const m = /^(Mesh|Node|Global)_(\d+)_(\d+)_(\d+)_(\d+)$/.exec(cols[0]!);
    if (!m) continue;
    out.push({
      protocol: cols[0]!,
      address: m.slice(2, 6).join("."),
      type: PEER_TYPE[m[1]!]!,
      state: cols[3]!,
      since: cols[4]!,
      info: cols.slice(5).join(" "),
    });
  }
  return out;
}
