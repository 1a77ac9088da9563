import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { writeCpio } from "../../../src/vm/cpio.ts";

const sample = () =>
  writeCpio([
    { type: "dir", path: "bin" },
    { type: "file", path: "bin/hello", data: "hi\n", mode: 0o755 },
    { type: "symlink", path: "bin/sh", target: "hello" },
    { type: "dir", path: "dev" },
    { type: "chardev", path: "dev/console", major: 5, minor: 1 },
  ]);

describe("newc cpio writer", () => {
  it("writes newc records padded to 4 bytes and ends with the trailer", () => {
    const buf = sample();
    assert.equal(buf.subarray(0, 6).toString(), "070701");
    assert.equal(buf.length % 4, 0);
    assert.ok(buf.includes(Buffer.from("TRAILER!!!\0")));
    // The console's header: mode 020600, rdev 5:1.
    const at = buf.indexOf(Buffer.from("dev/console\0")) - 110;
    const hdr = buf.subarray(at, at + 110).toString();
    assert.equal(hdr.slice(14, 22), (0o020600).toString(16).padStart(8, "0"));
    assert.equal(hdr.slice(78, 86), "00000005");
    assert.equal(hdr.slice(86, 94), "00000001");
  });

  it("is deterministic", () => {
    assert.deepEqual(sample(), sample());
  });

  it("refuses duplicate, empty and escaping paths", () => {
    assert.throws(
      () =>
        writeCpio([
          { type: "dir", path: "a" },
          { type: "dir", path: "/a" },
        ]),
      /duplicate/,
    );
    assert.throws(() => writeCpio([{ type: "dir", path: "../x" }]), /bad path/);
    assert.throws(() => writeCpio([{ type: "dir", path: "/" }]), /bad path/);
  });

  const cpio = spawnSync("cpio", ["--version"]).status === 0;
  it("unpacks with GNU cpio to the same files", { skip: cpio ? false : "GNU cpio is not installed" }, () => {
    const dir = mkdtempSync(join(tmpdir(), "cpio-test-"));
    try {
      const archive = join(dir, "a.cpio");
      writeFileSync(
        archive,
        writeCpio([
          { type: "dir", path: "bin" },
          { type: "file", path: "bin/hello", data: "hi\n", mode: 0o755 },
          { type: "symlink", path: "bin/sh", target: "hello" },
          { type: "file", path: "odd-length-name", data: new Uint8Array([1, 2, 3, 4, 5]) },
        ]),
      );
      const out = join(dir, "out");
      const r = spawnSync(
        "cpio",
        ["-i", "-d", "--quiet", "-D", out, "-F", archive, "--no-absolute-filenames"],
        {
          encoding: "utf8",
        },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(join(out, "bin/hello"), "utf8"), "hi\n");
      assert.equal(statSync(join(out, "bin/hello")).mode & 0o777, 0o755);
      assert.equal(readlinkSync(join(out, "bin/sh")), "hello");
      assert.deepEqual([...readFileSync(join(out, "odd-length-name"))], [1, 2, 3, 4, 5]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
