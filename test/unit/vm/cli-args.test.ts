import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCli } from "../../../src/vm/cli-args.ts";

describe("vm-run command line", () => {
  it("defaults: 2048M, 2 CPUs, 30 minutes, accelerator chosen automatically", () => {
    const o = parseCli(["--", "uname", "-r"]);
    assert.deepEqual(o.argv, ["uname", "-r"]);
    assert.equal(o.memory, "2048M");
    assert.equal(o.cpus, 2);
    assert.equal(o.timeoutS, 1800);
    assert.equal(o.accel, "auto");
  });

  it("reads every option; everything after -- is the command, options included", () => {
    const o = parseCli([
      "--mem",
      "1G",
      "--cpus",
      "1",
      "--timeout",
      "60",
      "--tcg",
      "--share",
      "/w",
      "--env",
      "A=1",
      "--env",
      "B",
      "--module",
      "dummy",
      "--tap",
      "vmtap0,52:54:00:AA:00:01",
      "--hostname",
      "master",
      "--exec-port",
      "7001",
      "--tmpfs",
      ".lab/run",
      "--timing",
      "-v",
      "--",
      "sh",
      "-c",
      "exit 7",
      "--mem",
    ]);
    assert.deepEqual(o.argv, ["sh", "-c", "exit 7", "--mem"]);
    assert.equal(o.memory, "1G");
    assert.equal(o.cpus, 1);
    assert.equal(o.timeoutS, 60);
    assert.equal(o.accel, "tcg");
    assert.equal(o.share, "/w");
    assert.deepEqual(o.env, ["A=1", "B"]);
    assert.deepEqual(o.modules, ["dummy"]);
    assert.deepEqual(o.taps, [{ ifname: "vmtap0", mac: "52:54:00:aa:00:01" }]);
    assert.equal(o.hostname, "master");
    assert.equal(o.execPort, 7001);
    assert.throws(() => parseCli(["--exec-port", "22", "--", "true"]), /--exec-port needs a port number/);
    assert.deepEqual(o.tmpfs, [".lab/run"]);
    assert.ok(o.timing && o.verbose);
    assert.equal(parseCli(["--kvm", "--", "true"]).accel, "kvm");
  });

  it("says what is wrong", () => {
    assert.throws(() => parseCli(["uname"]), /unknown option "uname" \(the command goes after --\)/);
    assert.throws(() => parseCli(["--mem", "2048"]), /--mem needs a size/);
    assert.throws(() => parseCli(["--cpus", "0", "--", "x"]), /positive whole number/);
    assert.throws(() => parseCli(["--timeout"]), /needs a value/);
    assert.throws(() => parseCli(["--"]), /no command/);
    assert.equal(parseCli(["--help"]).help, true);
  });
});
