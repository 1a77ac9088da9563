// scripts/vm-run end to end: Debian's kernel under QEMU (TCG here), exit codes, the shared folder written
// from inside, and the real kernel's IPIP (this host's kernel has no ipip module). Each boot takes ~7-15 s
// under TCG, so the checks share few boots; one VM at a time.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PROJECT_ROOT } from "../../../src/vm/runner.ts";

const VM_RUN = join(PROJECT_ROOT, "scripts", "vm-run");
const qemu = spawnSync("qemu-system-x86_64", ["--version"]).status === 0;
const skip = qemu
  ? false
  : "qemu-system-x86_64 is not installed (Debian package qemu-system-x86; scripts/setup installs it)";

function vmRun(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(VM_RUN, ["--timeout", "240", ...args], {
      cwd: PROJECT_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("scripts/vm-run", { skip, timeout: 600_000 }, () => {
  it("prints the Debian kernel's release", async () => {
    const r = await vmRun(["--", "uname", "-r"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^6\.1\.\d+-\d+-amd64\n$/);
  });

  it("passes the exit code out, writes into the shared folder, creates an ipip device, mounts --tmpfs", async () => {
    const name = `.tools/vm/itest-${randomBytes(4).toString("hex")}`;
    const file = join(PROJECT_ROOT, name);
    try {
      const script = [
        `printf 'written inside %s\\n' "$(uname -r)" > '${name}'`,
        "ip link add t0 type ipip local 192.168.19.165 remote 192.168.19.166",
        "ip -d link show t0",
        // 9p cannot hold unix sockets (ENXIO); a --tmpfs path inside the share can.
        `python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("${name}.d/sock"); print("unix socket ok")'`,
        "echo cwd=$PWD vm=$VM_RUN foo=$FOO",
        "exit 7",
      ].join(" && ");
      const r = await vmRun(["--env", "FOO=bar baz", "--tmpfs", `${file}.d`, "--", "sh", "-c", script]);
      assert.equal(r.code, 7, r.stderr);
      assert.match(r.stdout, /t0@NONE: .*\n\s+link\/ipip 192\.168\.19\.165 peer 192\.168\.19\.166/);
      assert.match(r.stdout, /unix socket ok\n/);
      assert.ok(!existsSync(`${file}.d/sock`), "a --tmpfs path is not shared back");
      assert.match(r.stdout, new RegExp(`cwd=${PROJECT_ROOT} vm=1 foo=bar baz\\n`));
      assert.ok(existsSync(file), "the file written inside the VM is on the host");
      assert.match(readFileSync(file, "utf8"), /^written inside 6\.1\.\d+-\d+-amd64\n$/);
    } finally {
      rmSync(file, { force: true });
      rmSync(`${file}.d`, { recursive: true, force: true });
    }
  });

  it("a capture on the underlay shows IP protocol 4 carrying the pods' ICMP between two /32s", async () => {
    const r = await vmRun(["--", "sh", "test/integration/vm/ipip-proof.sh"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /tunl0@NONE: <NOARP,UP,LOWER_UP> mtu 1440 /);
    assert.match(r.stdout, /inet 10\.244\.1\.1\/32 /);
    assert.match(r.stdout, /10\.244\.2\.0\/26 via 192\.168\.19\.166 onlink/);
    assert.match(r.stdout, /1 packets transmitted, 1 received/);
    // tcpdump -v: the outer header says protocol 4 (IPIP), the inner one is the pods' ICMP.
    assert.match(
      r.stdout,
      /proto IPIP \(4\), length 104\)\n\s+192\.168\.19\.165 > 192\.168\.19\.166: IP .*proto ICMP \(1\).*\n\s+10\.244\.1\.1 > 10\.244\.2\.1: ICMP echo request/,
    );
    assert.match(
      r.stdout,
      /proto IPIP \(4\), length 104\)\n\s+192\.168\.19\.166 > 192\.168\.19\.165: IP .*proto ICMP \(1\).*\n\s+10\.244\.2\.1 > 10\.244\.1\.1: ICMP echo reply/,
    );
  });

  it("kills a VM that runs past --timeout and exits 124", async () => {
    const r = await vmRun(["--timeout", "3", "--", "sleep", "60"]);
    assert.equal(r.code, 124);
    assert.match(r.stderr, /timed out after 3 s: QEMU killed/);
  });
});
