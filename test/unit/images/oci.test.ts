import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  ANNOTATIONS,
  imageArchive,
  makeLayer,
  MEDIA_TYPES,
  type RunConfig,
} from "../../../src/images/oci.ts";

const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const REF = "docker.io/calico-lab/test:0.1.0";
const RUN: RunConfig = {
  entrypoint: ["/bin/app"],
  cmd: ["--port", "8080"],
  env: { PATH: "/bin", MODE: "a=b" },
  workingDir: "/",
};

const layers = () => [
  makeLayer("base", [{ type: "file", path: "bin/app", data: "#!/bin/sh\necho ok\n", mode: 0o755 }]),
  makeLayer("extra", [{ type: "symlink", path: "bin/sh", target: "app" }]),
];

/** The archive unpacked with GNU tar, its JSON files parsed. */
function unpack(chunks: readonly Uint8Array[]) {
  const dir = mkdtempSync(join(tmpdir(), "oci-test-"));
  try {
    writeFileSync(join(dir, "image.tar"), Buffer.concat(chunks));
    const x = spawnSync("tar", ["-xf", join(dir, "image.tar"), "-C", dir], { encoding: "utf8" });
    assert.equal(x.status, 0, x.stderr);
    const blobs = new Map<string, Buffer>();
    for (const f of readdirSync(join(dir, "blobs", "sha256")))
      blobs.set(`sha256:${f}`, readFileSync(join(dir, "blobs", "sha256", f)));
    const json = (b: Buffer | undefined) => JSON.parse(b!.toString("utf8")) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    return {
      layout: json(readFileSync(join(dir, "oci-layout"))),
      index: json(readFileSync(join(dir, "index.json"))),
      blobs,
      json,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("OCI image layout", () => {
  it("names every blob by its digest; the manifest's descriptors give the right sizes and media types", () => {
    const a = imageArchive(REF, RUN, layers());
    const { layout, index, blobs, json } = unpack(a.chunks);
    assert.deepEqual(layout, { imageLayoutVersion: "1.0.0" });
    for (const [digest, data] of blobs) assert.equal(sha(data), digest);
    assert.equal(index.mediaType, MEDIA_TYPES.index);
    const [m] = index.manifests;
    assert.equal(m.mediaType, MEDIA_TYPES.manifest);
    assert.equal(m.digest, a.manifestDigest);
    assert.equal(m.size, blobs.get(m.digest)!.length);
    assert.deepEqual(m.platform, { architecture: "amd64", os: "linux" });
    const manifest = json(blobs.get(m.digest));
    assert.equal(manifest.schemaVersion, 2);
    assert.equal(manifest.mediaType, MEDIA_TYPES.manifest);
    assert.deepEqual(manifest.config, {
      mediaType: MEDIA_TYPES.config,
      digest: a.configDigest,
      size: blobs.get(a.configDigest)!.length,
    });
    assert.equal(manifest.layers.length, 2);
    for (const l of manifest.layers) {
      assert.equal(l.mediaType, "application/vnd.oci.image.layer.v1.tar");
      assert.equal(l.size, blobs.get(l.digest)!.length);
    }
  });

  it("names the image by both annotations with the full reference (containerd 1.6 reads io.containerd.image.name)", () => {
    const { index } = unpack(imageArchive(REF, RUN, layers()).chunks);
    assert.deepEqual(index.manifests[0].annotations, {
      [ANNOTATIONS.containerdName]: REF,
      [ANNOTATIONS.refName]: REF,
    });
  });

  it("writes the config: amd64/linux, what a container runs, diff_ids equal to the layers' digests", () => {
    const ls = layers();
    const a = imageArchive(REF, RUN, ls);
    const { blobs, json } = unpack(a.chunks);
    const config = json(blobs.get(a.configDigest));
    assert.equal(config.architecture, "amd64");
    assert.equal(config.os, "linux");
    assert.deepEqual(config.config, {
      Env: ["PATH=/bin", "MODE=a=b"],
      Entrypoint: ["/bin/app"],
      Cmd: ["--port", "8080"],
      WorkingDir: "/",
    });
    assert.deepEqual(config.rootfs, {
      type: "layers",
      diff_ids: ls.map((l) => sha(Buffer.concat(l.chunks))),
    });
    assert.deepEqual(config.history, [
      { created_by: "calico-lab images: base" },
      { created_by: "calico-lab images: extra" },
    ]);
    assert.equal(config.created, undefined, "no creation time: it would change the digest on every build");
  });

  it("gives byte-identical archives and digests for the same inputs, different ones for another ref or content", () => {
    const a = imageArchive(REF, RUN, layers());
    const b = imageArchive(REF, RUN, layers());
    assert.ok(Buffer.concat(a.chunks).equals(Buffer.concat(b.chunks)));
    assert.equal(a.size, Buffer.concat(a.chunks).length);
    assert.equal(a.manifestDigest, b.manifestDigest);
    const other = imageArchive("docker.io/calico-lab/test:0.1.1", RUN, layers());
    assert.equal(other.manifestDigest, a.manifestDigest, "the name lives in index.json only");
    assert.ok(!Buffer.concat(other.chunks).equals(Buffer.concat(a.chunks)));
    const changed = imageArchive(REF, RUN, [
      makeLayer("base", [{ type: "file", path: "bin/app", data: "changed" }]),
    ]);
    assert.notEqual(changed.manifestDigest, a.manifestDigest);
  });

  it("stores a layer used twice once, and refuses an image without layers", () => {
    const l = layers()[0]!;
    const { blobs } = unpack(imageArchive(REF, {}, [l, l]).chunks);
    assert.equal(blobs.size, 3); // layer, config, manifest
    assert.throws(() => imageArchive(REF, RUN, []), /image docker.io\/calico-lab\/test:0.1.0: no layers/);
  });
});
