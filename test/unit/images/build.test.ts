import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { buildImages, readImagesIndex, type BuildContext } from "../../../src/images/build.ts";
import type { ImageSpec } from "../../../src/images/catalog.ts";

const work = mkdtempSync(join(tmpdir(), "images-build-"));
after(() => rmSync(work, { recursive: true, force: true }));
writeFileSync(join(work, "greeting"), "hello\n");

const spec: ImageSpec = {
  name: "busybox",
  repository: "docker.io/calico-lab/unit",
  tag: { version: "0.1.0" },
  layers: [
    {
      name: "tools",
      sources: [
        // A small dynamic program of this machine: its libraries and the loader come along.
        { kind: "host", from: "/bin/true", libraries: true },
        { kind: "host", from: join(work, "greeting"), to: "/etc/greeting" },
        { kind: "text", path: "/etc/motd", content: "calico-lab\n" },
        { kind: "symlink", path: "/usr/local/bin/yes", target: "/usr/bin/true" },
      ],
    },
  ],
  run: { entrypoint: ["/usr/bin/true"] },
};

const ctx = (outDir: string): BuildContext => ({ root: work, outDir, log: () => undefined });

function layerPaths(archive: string): string[] {
  const dir = mkdtempSync(join(work, "x-"));
  assert.equal(spawnSync("tar", ["-xf", archive, "-C", dir]).status, 0);
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  const manifest = JSON.parse(
    readFileSync(join(dir, "blobs/sha256", index.manifests[0].digest.slice(7)), "utf8"),
  );
  const r = spawnSync("tar", ["-tf", join(dir, "blobs/sha256", manifest.layers[0].digest.slice(7))], {
    encoding: "utf8",
  });
  return r.stdout.trim().split("\n");
}

describe("image build", () => {
  it("builds an archive, records it in images.json, and skips it while its inputs are unchanged", async () => {
    const out = join(work, "a");
    const [first] = await buildImages(ctx(out), [spec]);
    assert.equal(first!.state, "built");
    const img = readImagesIndex(out).images.busybox!;
    assert.match(img.ref, /^docker\.io\/calico-lab\/unit:0\.1\.0-[0-9a-f]{12}$/);
    assert.equal(img.archive, "busybox.tar");
    assert.equal(img.size, readFileSync(join(out, "busybox.tar")).length);
    const paths = layerPaths(join(out, "busybox.tar"));
    for (const p of ["bin", "usr/bin/true", "etc/greeting", "etc/motd", "usr/local/bin/yes", "lib64"])
      assert.ok(paths.includes(p), p);
    assert.ok(
      paths.some((p) => /libc\.so\.6$/.test(p)),
      "libc comes with /bin/true",
    );

    const [again] = await buildImages(ctx(out), [spec]);
    assert.equal(again!.state, "fresh");
    // A touch changes the mtime, so the plan; the bytes, and so the image, stay the same.
    utimesSync(join(work, "greeting"), new Date(), new Date(Date.now() + 5000));
    const [touched] = await buildImages(ctx(out), [spec]);
    assert.equal(touched!.state, "built");
    assert.equal(touched!.image!.digest, img.digest);
    writeFileSync(join(work, "greeting"), "changed\n");
    const [changed] = await buildImages(ctx(out), [spec]);
    assert.equal(changed!.state, "built");
    assert.notEqual(changed!.image!.ref, img.ref, "new content, new tag");
    writeFileSync(join(work, "greeting"), "hello\n");
  });

  it("gives byte-identical archives from the same inputs", async () => {
    const [a] = await buildImages(ctx(join(work, "b")), [spec]);
    const [b] = await buildImages(ctx(join(work, "c")), [spec]);
    assert.ok(
      readFileSync(join(work, "b", "busybox.tar")).equals(readFileSync(join(work, "c", "busybox.tar"))),
    );
    assert.equal(a!.image!.digest, b!.image!.digest);
  });

  it("skips an image whose input is missing, saying which", async () => {
    const missing: ImageSpec = {
      ...spec,
      layers: [{ name: "x", sources: [{ kind: "host", from: ".tools/k8s/bin/none" }] }],
    };
    const [o] = await buildImages(ctx(join(work, "d")), [missing]);
    assert.equal(o!.state, "skipped");
    assert.equal(o!.reason, `${join(work, ".tools/k8s/bin/none")} does not exist`);
  });
});
