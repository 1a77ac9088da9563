import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { renderBirdConf } from "../../../../src/agent/confd/bird-conf.ts";
import { localBgp, planPeers } from "../../../../src/agent/confd/peers.ts";
import type { EncapMode } from "../../../../src/agent/datastore/keys.ts";
import { assertGolden } from "../../../support/golden.ts";
import { node, seedNodes } from "../fixtures.ts";

function confFor(mode: EncapMode, nodes = seedNodes) {
  return renderBirdConf({
    local: localBgp(nodes[0]!)!,
    peers: planPeers(nodes[0]!, nodes, []),
    pools: [{ cidr: "10.244.0.0/16", ipipMode: mode, vxlanMode: "Never" }],
    blocks: ["10.244.137.64/26"],
  });
}

/** BIRD's own parser is the judge of syntax (bird -p), when BIRD is installed. */
function birdParses(text: string): void {
  let bird: string;
  try {
    bird = execFileSync("sh", ["-c", "command -v bird"], { encoding: "utf8" }).trim();
  } catch {
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "birdconf-"));
  try {
    writeFileSync(join(dir, "bird.conf"), text);
    execFileSync(bird, ["-p", "-c", join(dir, "bird.conf")], { stdio: "pipe" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("bird.conf", () => {
  for (const mode of ["Never", "Always", "CrossSubnet"] as const) {
    it(`ipipMode ${mode}: matches the golden file and BIRD accepts it`, async () => {
      const text = confFor(mode);
      await assertGolden(`routing/bird-${mode.toLowerCase()}.conf`, text);
      birdParses(text);
    });
  }

  it("IPIP Always programs remote blocks onlink via tunl0 with the BGP next hop", () => {
    assert.match(confFor("Always"), /onlink = true; ifname = "tunl0"; gw = bgp_next_hop;/);
    assert.doesNotMatch(confFor("Never"), /tunl0"; gw/);
  });

  it("CrossSubnet encapsulates only next hops outside the node's subnet", () => {
    assert.match(
      confFor("CrossSubnet"),
      /if \( bgp_next_hop !~ 192\.168\.19\.0\/24 \) then \{ onlink = true;/,
    );
  });

  it("exports the node's blocks as blackholes and never local /32s", () => {
    const text = confFor("Never");
    assert.match(text, /route 10\.244\.137\.64\/26 blackhole;/);
    assert.match(text, /if \( source = RTS_STATIC \|\| source = RTS_BGP \) then accept;/);
  });

  it("a route reflector marks clients and its cluster id; peers off-subnet are multihop", () => {
    const nodes = [
      node("rr", "10.0.0.1/24", { rr: "244.0.0.1", labels: { "route-reflector": "" } }),
      node("far", "10.1.0.2/24"),
    ];
    const text = renderBirdConf({
      local: localBgp(nodes[0]!)!,
      peers: planPeers(nodes[0]!, nodes, []),
      pools: [{ cidr: "10.244.0.0/16", ipipMode: "Never", vxlanMode: "Never" }],
      blocks: [],
    });
    assert.match(
      text,
      /neighbor 10\.1\.0\.2 as 64512;\n {2}multihop;\n {2}rr client;\n {2}rr cluster id 244\.0\.0\.1;/,
    );
    assert.match(text, /gateway recursive;/);
    birdParses(text);
  });

  it("tunes timers for sessions in about a second", () => {
    assert.match(confFor("Never"), /connect delay time 1;\n {2}connect retry time 1;/);
  });
});
