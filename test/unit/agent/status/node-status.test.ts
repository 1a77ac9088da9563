import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatNodeStatus, parseBirdProtocols } from "../../../../src/agent/status/node-status.ts";
import { assertGolden } from "../../../support/golden.ts";

const SHOW_PROTOCOLS = `BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     14:22:01
direct1    Direct     ---        up     14:22:01
kernel1    Kernel     master4    up     14:22:01
static_blocks Static  master4    up     14:22:01
Mesh_192_168_19_166 BGP        ---        up     14:22:02    Established
Global_10_0_9_9 BGP        ---        start  14:22:02    Active        Socket: Connection refused
Node_10_0_0_1 BGP        ---        up     14:22:03    Established
`;

describe("node status", () => {
  it("reads BGP peers from birdc show protocols, typed by protocol name", () => {
    assert.deepEqual(
      parseBirdProtocols(SHOW_PROTOCOLS).map((p) => [p.address, p.type, p.state, p.info]),
      [
        ["192.168.19.166", "node-to-node mesh", "up", "Established"],
        ["10.0.9.9", "global", "start", "Active Socket: Connection refused"],
        ["10.0.0.1", "node specific", "up", "Established"],
      ],
    );
  });

  it("prints Calico's table", async () => {
    await assertGolden("routing/node-status.txt", formatNodeStatus(true, parseBirdProtocols(SHOW_PROTOCOLS)));
  });

  it("says when there are no peers", () => {
    assert.match(
      formatNodeStatus(false, []),
      /^Calico process is not running\.\n\nIPv4 BGP status\nNo IPv4 peers found\./,
    );
  });
});
