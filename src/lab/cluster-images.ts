// A kubeadm lab's images, as scripts/setup --kubernetes built them (src/images: .tools/images/images.json):
// every one must be there before anything is created, else the stack is refused at preview naming what is
// missing and the command that builds it. Reads the index; pure otherwise.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../build/bundles.ts";
import { readImagesIndex } from "../images/build.ts";
import { CONTROL_PLANE_COMPONENTS } from "../kubernetes/kubeadm-config.ts";
import type { ClusterImages, ImageUse } from "./cluster-graph.ts";

/** Where scripts/setup puts the images (CALICO_LAB_IMAGES_DIR overrides it, for tests). */
export const IMAGES_DIR = join(REPO_ROOT, ".tools", "images");

const CONTROL_PLANE = CONTROL_PLANE_COMPONENTS;
const NEEDED = ["pause", ...CONTROL_PLANE, "calico-node", "busybox", "echo"] as const;

export type ClusterImagesRead = { ok: true; images: ClusterImages } | { ok: false; message: string };

export function readClusterImages(stack: string, dir = IMAGES_DIR): ClusterImagesRead {
  const index = readImagesIndex(dir).images;
  const use = (name: (typeof NEEDED)[number]): ImageUse | undefined => {
    const i = index[name];
    const archive = i ? join(dir, i.archive) : undefined;
    return i && archive && existsSync(archive) ? { ref: i.ref, archive, digest: i.digest } : undefined;
  };
  const missing = NEEDED.filter((n) => !use(n));
  if (missing.length > 0)
    return {
      ok: false,
      message:
        `stack "${stack}": calico-lab:kubernetes is kubeadm, and the cluster's images are not built: ` +
        `${missing.join(", ")} missing in ${dir}; nothing was created.\n` +
        "  fix: bash scripts/setup --kubernetes (builds Kubernetes v1.34.4 and the images, offline; about 10 minutes the first time)",
    };
  return {
    ok: true,
    images: {
      pause: use("pause")!,
      controlPlane: CONTROL_PLANE.map((n) => use(n)!),
      calicoNode: use("calico-node")!,
      busybox: use("busybox")!,
      echo: use("echo")!,
    },
  };
}

/** The manifest's form of our node image's ref: `calico-lab/node:<tag>` (CRI adds docker.io/ back). */
export function manifestImageRef(ref: string): string {
  return ref.replace(/^docker\.io\//, "");
}
