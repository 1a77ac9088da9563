import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { elfIsStatic } from "../../../src/vm/build.ts";
import { imagePackageFromDepends, kernelId, versionFromShow } from "../../../src/vm/kernel.ts";
import { initramfsEntries, initramfsKey, stage1Script, stage2Script } from "../../../src/vm/initramfs.ts";
import { assertGolden } from "../../support/golden.ts";

const mod = (name: string) => ({
  entry: { name, path: `kernel/${name}.ko`, deps: [] },
  data: new Uint8Array([1]),
});

describe("initramfs", () => {
  it("stage scripts match their golden files", async () => {
    await assertGolden("vm/stage1-init.sh", stage1Script());
    await assertGolden("vm/stage2.sh", stage2Script());
  });

  it("stage scripts parse under sh -n", () => {
    for (const s of [stage1Script(), stage2Script()]) {
      const r = spawnSync("sh", ["-n"], { input: s, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
    }
  });

  it("holds busybox, /init, stage 2, the console node and the modules with their load order", () => {
    const entries = initramfsEntries({
      busybox: new Uint8Array([0x7f]),
      modules: [mod("virtio"), mod("9p")],
    });
    const paths = entries.map((e) => e.path);
    for (const p of [
      "bin/busybox",
      "bin/sh",
      "init",
      "stage2.sh",
      "dev/console",
      "modules/virtio.ko",
      "modules/9p.ko",
    ]) {
      assert.ok(paths.includes(p), p);
    }
    const order = entries.find((e) => e.path === "modules/order");
    assert.ok(order && order.type === "file");
    assert.equal(order.data, "virtio.ko\n9p.ko\n");
    const init = entries.find((e) => e.path === "init");
    assert.ok(init && init.type === "file" && init.mode === 0o755);
  });

  it("is keyed by kernel, module list and busybox", () => {
    const k = initramfsKey("linux-image-6.1.0-56-amd64_6.1.192-2", ["a", "b"], "bb");
    assert.match(k, /^[0-9a-f]{16}$/);
    assert.equal(k, initramfsKey("linux-image-6.1.0-56-amd64_6.1.192-2", ["a", "b"], "bb"));
    assert.notEqual(k, initramfsKey("linux-image-6.1.0-57-amd64_6.1.193-1", ["a", "b"], "bb"));
    assert.notEqual(k, initramfsKey("linux-image-6.1.0-56-amd64_6.1.192-2", ["b", "a"], "bb"));
    assert.notEqual(k, initramfsKey("linux-image-6.1.0-56-amd64_6.1.192-2", ["a", "b"], "bb2"));
  });
});

describe("kernel package", () => {
  it("finds the real image package behind the metapackage", () => {
    const text = "linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n";
    assert.equal(imagePackageFromDepends(text, "linux-image-amd64"), "linux-image-6.1.0-56-amd64");
    assert.throws(
      () => imagePackageFromDepends("linux-image-amd64\n", "linux-image-amd64"),
      /no linux-image-\*/,
    );
  });

  it("reads the version and keys the cache by package and version", () => {
    assert.equal(versionFromShow("Package: x\nVersion: 6.1.192-2\nArchitecture: amd64\n"), "6.1.192-2");
    assert.equal(
      kernelId("linux-image-6.1.0-56-amd64", "1:6.1.192-2"),
      "linux-image-6.1.0-56-amd64_1%3a6.1.192-2",
    );
  });

  it("tells a static ELF from a dynamic one", () => {
    const elf = (types: number[]) => {
      const b = Buffer.alloc(64 + 56 * types.length);
      b.writeUInt32BE(0x7f454c46, 0);
      b[4] = 2;
      b.writeBigUInt64LE(64n, 0x20);
      b.writeUInt16LE(56, 0x36);
      b.writeUInt16LE(types.length, 0x38);
      types.forEach((t, i) => b.writeUInt32LE(t, 64 + 56 * i));
      return b;
    };
    assert.equal(elfIsStatic(elf([6, 1, 1])), true);
    assert.equal(elfIsStatic(elf([6, 3, 1])), false);
    assert.throws(() => elfIsStatic(Buffer.from("#!/bin/sh\n".padEnd(64))), /not an ELF/);
  });
});
