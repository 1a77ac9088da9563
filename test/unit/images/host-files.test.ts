import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { hostFileEntries, parseLdd } from "../../../src/images/host-files.ts";

describe("host files", () => {
  it("parses ldd: libraries and the loader, for one file or several, without the vDSO", () => {
    const one =
      "\tlinux-vdso.so.1 (0x00007ffd)\n\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007f1)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f3)\n";
    assert.deepEqual(parseLdd(one), [
      "/lib/x86_64-linux-gnu/libc.so.6",
      "/lib/x86_64-linux-gnu/libz.so.1",
      "/lib64/ld-linux-x86-64.so.2",
    ]);
    const several = `/usr/bin/a:\n${one}/usr/bin/static:\n\tnot a dynamic executable\n`;
    assert.equal(parseLdd(several).length, 3);
    assert.throws(() => parseLdd("\tlibfoo.so.1 => not found\n"), /ldd: libraries not found: libfoo.so.1/);
  });

  it("keeps every symlink on the way to a file, and the file at its real path", async () => {
    const d = mkdtempSync(join(tmpdir(), "host-files-"));
    try {
      mkdirSync(join(d, "usr/lib"), { recursive: true });
      writeFileSync(join(d, "usr/lib/libz.so.1.2"), "z", { mode: 0o644 });
      symlinkSync("libz.so.1.2", join(d, "usr/lib/libz.so.1"));
      symlinkSync("usr/lib", join(d, "lib"));
      const entries = await hostFileEntries(join(d, "lib/libz.so.1"));
      assert.deepEqual(
        entries.map((e) => [e.type, e.path, e.type === "symlink" ? e.target : ""]),
        [
          ["symlink", join(d, "lib"), "usr/lib"],
          ["symlink", join(d, "usr/lib/libz.so.1"), "libz.so.1.2"],
          ["hostFile", join(d, "usr/lib/libz.so.1.2"), ""],
        ],
      );
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
