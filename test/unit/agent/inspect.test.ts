import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ipamShowTable, nodesTable, parseInspectArgs } from "../../../src/agent/inspect.ts";
import { assignFromBlock, newBlock } from "../../../src/agent/ipam/block.ts";
import { defaultPool } from "../../../src/agent/startup/pool.ts";
import { newResource } from "../../../src/agent/datastore/keys.ts";

describe("calicoctl-like tables", () => {
  test("ipam show: pool and blocks per node, used/free", () => {
    const b = assignFromBlock(newBlock("10.244.137.64/26", "host:master"), 2, "h", null).block;
    const out = ipamShowTable([defaultPool({ cidr: "10.244.0.0/16" })], [b]);
    assert.equal(
      out,
      [
        "+----------+------------------+--------+-----------+------------+--------------+",
        "| GROUPING | CIDR             | NODE   | IPS TOTAL | IPS IN USE | IPS FREE     |",
        "+----------+------------------+--------+-----------+------------+--------------+",
        "| IP Pool  | 10.244.0.0/16    |        | 65536     | 2 (0%)     | 65534 (100%) |",
        "| Block    | 10.244.137.64/26 | master | 64        | 2 (3%)     | 62 (97%)     |",
        "+----------+------------------+--------+-----------+------------+--------------+",
        "",
      ].join("\n"),
    );
  });
  test("get nodes -o wide", () => {
    const n = newResource(
      "Node",
      { name: "master" },
      { bgp: { ipv4Address: "192.168.19.165/24", ipv4IPIPTunnelAddr: "10.244.137.64" } },
    );
    assert.match(nodesTable([n], true), /^master +\(64512\) +192\.168\.19\.165\/24 + 10\.244\.137\.64$/m);
    assert.equal(nodesTable([n], false), "NAME\nmaster\n");
  });
  test("arguments", () => {
    assert.deepEqual(parseInspectArgs(["get", "nodes", "-o", "wide"]), { what: "nodes", wide: true });
    assert.deepEqual(parseInspectArgs(["get", "wep"]), { what: "workloadendpoints", wide: false });
    assert.deepEqual(parseInspectArgs(["ipam", "show"]), { what: "ipam-show" });
    assert.throws(() => parseInspectArgs(["delete", "nodes"]), /usage/);
    assert.throws(() => parseInspectArgs(["get", "nodes", "-o", "yaml"]), /unsupported/);
  });
});
