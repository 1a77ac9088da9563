import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  completeEntries,
  paxRecord,
  splitUstarName,
  writeTar,
  type TarEntry,
} from "../../../src/images/tar.ts";

const LONG_DIR = `usr/lib/${"d".repeat(120)}`;
const LONG_FILE = `${LONG_DIR}/${"f".repeat(90)}`; // fits as prefix + name
const VERY_LONG = `${"p".repeat(160)}/${"n".repeat(120)}`; // fits neither: a pax path
const LONG_TARGET = `/${"t".repeat(140)}`;

const sample = (): TarEntry[] => [
  { type: "file", path: "usr/bin/hello", data: "hi\n", mode: 0o755 },
  { type: "symlink", path: "bin", target: "usr/bin" },
  { type: "dir", path: "etc", mode: 0o700 },
  { type: "file", path: LONG_FILE, data: "long" },
  { type: "file", path: VERY_LONG, data: new Uint8Array([1, 2, 3]) },
  { type: "symlink", path: "usr/far", target: LONG_TARGET },
  {
    type: "file",
    path: "/etc/passwd",
    data: ["root:", Buffer.from("x:0:0::/:/bin/sh\n")].map((s) => Buffer.from(s)),
  },
];

/** The ustar header fields of the entry named `name` (a short name). */
function header(buf: Buffer, name: string) {
  for (let at = 0; at < buf.length; at += 512) {
    const h = buf.subarray(at, at + 512);
    const field = (o: number, l: number) =>
      h
        .subarray(o, o + l)
        .toString("latin1")
        .replace(/\0.*$/s, "");
    if (field(0, 100) !== name) continue;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    return {
      mode: parseInt(field(100, 8), 8),
      uid: parseInt(field(108, 8), 8),
      gid: parseInt(field(116, 8), 8),
      size: parseInt(field(124, 12), 8),
      mtime: parseInt(field(136, 12), 8),
      checksumOk: parseInt(field(148, 8), 8) === sum,
      type: field(156, 1),
      linkname: field(157, 100),
      magic: h.subarray(257, 265).toString("latin1"),
      uname: field(265, 32),
    };
  }
  return null;
}

describe("tar writer", () => {
  it("writes ustar headers: mode, size, uid/gid 0, mtime 0, a valid checksum, no user names", () => {
    const buf = writeTar(sample());
    const h = header(buf, "usr/bin/hello");
    assert.deepEqual(h, {
      mode: 0o755, uid: 0, gid: 0, size: 3, mtime: 0, checksumOk: true, type: "0", linkname: "", magic: "ustar\x0000", uname: "",
    }); // prettier-ignore
    assert.equal(header(buf, "etc/")?.type, "5");
    assert.equal(header(buf, "etc/")?.mode, 0o700);
    assert.deepEqual([header(buf, "bin")?.type, header(buf, "bin")?.linkname], ["2", "usr/bin"]);
    assert.equal(buf.length % 512, 0);
    assert.ok(buf.subarray(-1024).equals(Buffer.alloc(1024)), "ends with two zero blocks");
  });

  it("orders entries by path with every parent before its children, adding missing parents", () => {
    const paths = completeEntries(sample()).map((e) => e.path);
    assert.deepEqual(paths, [...paths].sort());
    for (const p of paths) {
      const parent = p.split("/").slice(0, -1).join("/");
      if (parent)
        assert.ok(
          paths.indexOf(parent) >= 0 && paths.indexOf(parent) < paths.indexOf(p),
          `${parent} before ${p}`,
        );
    }
    assert.ok(paths.includes("usr") && paths.includes("usr/bin") && paths.includes("usr/lib"));
  });

  it("is deterministic: the same entries in any order give the same bytes", () => {
    assert.ok(writeTar(sample()).equals(writeTar([...sample()].reverse())));
  });

  it("splits long names into ustar prefix and name, and uses pax records beyond that", () => {
    assert.deepEqual(splitUstarName("a/b"), { prefix: "", name: "a/b" });
    assert.deepEqual(splitUstarName(LONG_FILE), { prefix: LONG_DIR, name: "f".repeat(90) });
    assert.equal(splitUstarName(VERY_LONG), null);
    // The length counts itself, including when adding its digits adds a digit.
    for (const v of ["x", "y".repeat(85), "z".repeat(994)]) {
      const r = paxRecord("path", v);
      assert.equal(Buffer.byteLength(r), Number(r.split(" ")[0]));
    }
  });

  it("is read back by GNU tar: names, modes, symlinks and long paths as written", () => {
    const dir = mkdtempSync(join(tmpdir(), "tar-test-"));
    try {
      writeFileSync(join(dir, "t.tar"), writeTar(sample()));
      const list = spawnSync("tar", ["-tvf", join(dir, "t.tar")], { encoding: "utf8" });
      assert.equal(list.status, 0, list.stderr);
      assert.match(list.stdout, /^-rwxr-xr-x 0\/0 +3 1970-01-01 00:00 usr\/bin\/hello$/m);
      assert.match(list.stdout, /^drwx------ 0\/0 +0 1970-01-01 00:00 etc\/$/m);
      const x = spawnSync("tar", ["-xf", join(dir, "t.tar"), "-C", dir], { encoding: "utf8" });
      assert.equal(x.status, 0, x.stderr);
      assert.equal(readFileSync(join(dir, LONG_FILE), "utf8"), "long");
      assert.deepEqual([...readFileSync(join(dir, VERY_LONG))], [1, 2, 3]);
      assert.equal(readlinkSync(join(dir, "usr/far")), LONG_TARGET);
      assert.equal(readlinkSync(join(dir, "bin")), "usr/bin");
      assert.equal(readFileSync(join(dir, "etc/passwd"), "utf8"), "root:x:0:0::/:/bin/sh\n");
      assert.equal(statSync(join(dir, "usr/bin/hello")).mode & 0o7777, 0o755);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("merges identical duplicates and refuses conflicting ones, bad paths and entries below a symlink", () => {
    const f: TarEntry = { type: "file", path: "a/f", data: "x" };
    assert.equal(completeEntries([f, { ...f, path: "/a/f" }, { type: "dir", path: "a" }]).length, 2);
    assert.throws(() => writeTar([f, { ...f, data: "y" }]), /tar: two different entries at "a\/f"/);
    assert.throws(
      () =>
        writeTar([
          { type: "dir", path: "d", mode: 0o700 },
          { type: "dir", path: "d", mode: 0o755 },
        ]),
      /two different/,
    );
    for (const bad of ["", "/", "a/../b", "a//b", "./a", "a\0b"])
      assert.throws(() => writeTar([{ type: "file", path: bad, data: "" }]), /tar: bad path/);
    assert.throws(
      () =>
        writeTar([
          { type: "symlink", path: "lib", target: "usr/lib" },
          { type: "file", path: "lib/x.so", data: "" },
        ]),
      /tar: "lib\/x.so" is below a symlink in the same archive/,
    );
  });
});
