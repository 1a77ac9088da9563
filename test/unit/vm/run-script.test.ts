import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { commandEnv, hiddenInGuest, runScript, shQuote, vmEnvFile } from "../../../src/vm/run-script.ts";

describe("run script", () => {
  it("quotes every word for sh, whatever it holds", () => {
    for (const w of ["plain", "with space", "it's", "$(rm -rf /)", "`x`", "a\nb", "", "\\"]) {
      const r = spawnSync("sh", ["-c", `printf %s ${shQuote(w)}`], { encoding: "utf8" });
      assert.equal(r.stdout, w);
    }
  });

  it("passes PATH, CI and friends through, adds --env values and VM_RUN=1", () => {
    const env = commandEnv({ PATH: "/x/bin:/usr/bin", CI: "1", SECRET: "no", KEEP: "yes" }, [
      "A=b=c",
      "KEEP",
    ]);
    assert.deepEqual(env, {
      HOME: "/root",
      PATH: "/x/bin:/usr/bin",
      TERM: "dumb",
      CI: "1",
      A: "b=c",
      KEEP: "yes",
      VM_RUN: "1",
    });
    assert.throws(() => commandEnv({}, ["1BAD=x"]), /bad environment variable name/);
  });

  it("exports the environment, enters the folder and execs the argv", () => {
    assert.equal(
      runScript({ argv: ["sh", "-c", "exit 7"], env: { HOME: "/root", X: "a b" }, cwd: "/work/main" }),
      [
        "# vm-run: the command, run by stage 2 inside the VM",
        "export HOME='/root'",
        "export X='a b'",
        "cd '/work/main' || exit 125",
        "exec 'sh' '-c' 'exit 7'",
        "",
      ].join("\n"),
    );
    assert.throws(() => runScript({ argv: [], env: {}, cwd: "/" }), /no command/);
  });

  it("runs as written under sh: exit code and arguments survive", () => {
    const script = runScript({
      argv: ["sh", "-c", 'printf "%s|" "$@"; exit 7', "_", "a b", "it's"],
      env: {},
      cwd: "/",
    });
    const r = spawnSync("sh", ["-c", script], { encoding: "utf8" });
    assert.equal(r.stdout, "a b|it's|");
    assert.equal(r.status, 7);
  });

  it("writes vm.env for stage 2 and refuses odd nonces and hostnames", () => {
    const v = {
      nonce: "ab12",
      share: "/work/main",
      kernelRelease: "6.1.0-56-amd64",
      modulesDir: "/c/m",
      hostname: "vm-run",
    };
    assert.equal(
      vmEnvFile(v),
      "VM_NONCE=ab12\nVM_SHARE='/work/main'\nVM_KERNEL_RELEASE='6.1.0-56-amd64'\nVM_MODULES_DIR='/c/m'\nVM_HOSTNAME=vm-run\n",
    );
    assert.throws(() => vmEnvFile({ ...v, nonce: "a;b" }), /nonce/);
    assert.throws(() => vmEnvFile({ ...v, hostname: "-x y" }), /hostname/);
  });

  it("a share under /tmp or /run is seen in the guest, and so is what it holds", () => {
    for (const share of ["/tmp/x", "/run/user/0/lab", "/work/main"]) {
      assert.equal(hiddenInGuest("the shared folder", share, share), undefined, share);
      assert.equal(hiddenInGuest("m", `${share}/.tools/vm/kernel/lib/modules`, share), undefined, share);
    }
    assert.equal(hiddenInGuest("m", "/tmpx/m", "/work/main"), undefined, "/tmpx is not /tmp");
  });

  it("names a host path the guest's own /tmp, /run, /proc or /sys would hide", () => {
    assert.equal(
      hiddenInGuest("the kernel's modules folder", "/tmp/x/.tools/vm/m", "/work/main"),
      "the kernel's modules folder /tmp/x/.tools/vm/m is under /tmp, which the VM mounts afresh, and outside the shared folder /work/main; share a folder that holds it (--share) or move it",
    );
    assert.match(hiddenInGuest("s", "/run/a", "/tmp/b") ?? "", /^s \/run\/a is under \/run, /);
    assert.equal(
      hiddenInGuest("the shared folder", "/sys/x", "/sys/x"),
      "the shared folder /sys/x is under /sys, which the VM has its own of; move it elsewhere",
    );
    const v = { nonce: "ab12", share: "/work/main", kernelRelease: "r", modulesDir: "/tmp/m", hostname: "h" };
    assert.throws(() => vmEnvFile(v), /modules folder \/tmp\/m is under \/tmp/);
    assert.match(vmEnvFile({ ...v, share: "/tmp" }), /VM_SHARE='\/tmp'/);
  });
});
