import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inNetns } from "../../../src/effects/exec.ts";
import { vmOfNetns, vmPrefix } from "../../../src/effects/vm-netns.ts";

describe("where a named namespace lives", () => {
  it("reaches a VM's root namespace through vm-exec in the switch namespace", () => {
    const vm = {
      switchNetns: "lab-underlay",
      execPort: 7002,
      vmExec: ["/usr/bin/node", "/w/dist/bin/vm-exec.mjs"],
    };
    assert.deepEqual(vmPrefix(vm), [
      "ip",
      "netns",
      "exec",
      "lab-underlay",
      "/usr/bin/node",
      "/w/dist/bin/vm-exec.mjs",
      "127.0.0.1:7002",
      "--",
    ]);
    assert.throws(() => vmPrefix({ ...vm, switchNetns: "a b" }), /name/);
  });

  it("looks up plain names only, and a namespace recorded nowhere is this kernel's", () => {
    assert.equal(vmOfNetns("../../etc/passwd"), undefined);
    assert.equal(vmOfNetns("/etc/passwd"), undefined);
    assert.equal(vmOfNetns("t0-no-such-lab-host"), undefined);
    assert.deepEqual(inNetns("t0-no-such-lab-host", ["ip", "route"]), [
      "ip",
      "netns",
      "exec",
      "t0-no-such-lab-host",
      "ip",
      "route",
    ]);
  });
});
