// OCI image layout, pure: layers (uncompressed tar), the image config, the manifest, index.json and the
// archive that `ctr images import` reads. Nothing here touches the filesystem; the same inputs give the
// same bytes and digests.
import { createHash } from "node:crypto";
import { tarChunks, type TarEntry } from "./tar.ts";

export const MEDIA_TYPES = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  // Uncompressed: the guests run under TCG, where gunzip of a 100 MB layer takes many seconds.
  layer: "application/vnd.oci.image.layer.v1.tar",
} as const;

/** The annotations containerd and OCI tools read an image's name from. */
export const ANNOTATIONS = {
  refName: "org.opencontainers.image.ref.name",
  containerdName: "io.containerd.image.name",
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

/** One layer: its tar stream (as chunks) with its digest and size. */
export interface Layer {
  /** What the layer holds, for the image's history. */
  name: string;
  chunks: readonly Buffer[];
  digest: string;
  size: number;
}

export const sha256Digest = (chunks: readonly Uint8Array[]): string => {
  const h = createHash("sha256");
  for (const c of chunks) h.update(c);
  return `sha256:${h.digest("hex")}`;
};

const total = (chunks: readonly Uint8Array[]) => chunks.reduce((n, c) => n + c.length, 0);

/** A layer from its entries. Uncompressed, so its digest is also its diff_id. */
export function makeLayer(name: string, entries: readonly TarEntry[]): Layer {
  const chunks = tarChunks(entries);
  return { name, chunks, digest: sha256Digest(chunks), size: total(chunks) };
}

/** What a container of the image runs, as the image config's `config` object holds it. */
export interface RunConfig {
  entrypoint?: readonly string[];
  cmd?: readonly string[];
  env?: Readonly<Record<string, string>>;
  workingDir?: string;
  user?: string;
}

/** The image config JSON (architecture amd64, os linux). No creation time: it would change the digest. */
export function imageConfig(run: RunConfig, layers: readonly Layer[]): Buffer {
  const config: Record<string, unknown> = {};
  if (run.user !== undefined) config.User = run.user;
  if (run.env !== undefined) config.Env = Object.entries(run.env).map(([k, v]) => `${k}=${v}`);
  if (run.entrypoint !== undefined) config.Entrypoint = [...run.entrypoint];
  if (run.cmd !== undefined) config.Cmd = [...run.cmd];
  if (run.workingDir !== undefined) config.WorkingDir = run.workingDir;
  return json({
    architecture: "amd64",
    os: "linux",
    config,
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
    history: layers.map((l) => ({ created_by: `calico-lab images: ${l.name}` })),
  });
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8");

const descriptor = (mediaType: string, data: Buffer): Descriptor => ({
  mediaType,
  digest: sha256Digest([data]),
  size: data.length,
});

export function imageManifest(config: Buffer, layers: readonly Layer[]): Buffer {
  return json({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: descriptor(MEDIA_TYPES.config, config),
    layers: layers.map((l) => ({ mediaType: MEDIA_TYPES.layer, digest: l.digest, size: l.size })),
  });
}

/**
 * index.json: one manifest, named by both annotations. containerd 1.6's `ctr images import` names the
 * image from io.containerd.image.name (a full reference); OCI tools read org.opencontainers.image.ref.name,
 * which the OCI spec shapes as a tag but containerd also accepts as a full reference.
 */
export function imageIndex(manifest: Buffer, ref: string): Buffer {
  return json({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.index,
    manifests: [
      {
        ...descriptor(MEDIA_TYPES.manifest, manifest),
        platform: { architecture: "amd64", os: "linux" },
        annotations: { [ANNOTATIONS.containerdName]: ref, [ANNOTATIONS.refName]: ref },
      },
    ],
  });
}

export const OCI_LAYOUT = json({ imageLayoutVersion: "1.0.0" });

/** An image archive ready to write, with the digests that identify it. */
export interface ImageArchive {
  ref: string;
  /** The tar stream of the OCI layout, as chunks (layer data referenced, not copied). */
  chunks: readonly Buffer[];
  size: number;
  manifestDigest: string;
  configDigest: string;
  layers: readonly Descriptor[];
}

const blobPath = (digest: string) => `blobs/sha256/${digest.replace(/^sha256:/, "")}`;

/** The OCI image layout of one image as a tar: oci-layout, index.json, blobs/sha256/<hex>…. */
export function imageArchive(ref: string, run: RunConfig, layers: readonly Layer[]): ImageArchive {
  if (layers.length === 0) throw new Error(`image ${ref}: no layers`);
  const config = imageConfig(run, layers);
  const manifest = imageManifest(config, layers);
  const index = imageIndex(manifest, ref);
  const blobs = new Map<string, readonly Uint8Array[]>();
  for (const l of layers) blobs.set(l.digest, l.chunks);
  blobs.set(sha256Digest([config]), [config]);
  blobs.set(sha256Digest([manifest]), [manifest]);
  const entries: TarEntry[] = [
    { type: "file", path: "oci-layout", data: OCI_LAYOUT },
    { type: "file", path: "index.json", data: index },
    ...[...blobs].map(([digest, data]): TarEntry => ({ type: "file", path: blobPath(digest), data })),
  ];
  const chunks = tarChunks(entries);
  return {
    ref,
    chunks,
    size: total(chunks),
    manifestDigest: sha256Digest([manifest]),
    configDigest: sha256Digest([config]),
    layers: layers.map((l) => ({ mediaType: MEDIA_TYPES.layer, digest: l.digest, size: l.size })),
  };
}
