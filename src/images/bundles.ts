// Our bundles as the images carry them. The lab's own bundles (src/build/bundles.ts) check themselves
// against their sources when they start and rebuild when stale, which needs the project beside them; in an
// image there is none, so these are built as plain modules (the library form: the entry's code, no
// self-check) into dist/image-bundles. Freshness is still decided by the same meta files.
//
// The folder is fixed relative to the project, whatever the images' output folder: a bundle records the
// sources' URLs relative to itself (see sourceUrlExpr in src/build/bundles.ts), so bundles built elsewhere
// would differ in bytes, and so would the image's digest and tag.
import { join } from "node:path";
import { ENTRIES, REPO_ROOT, type BundleSet } from "../build/bundles.ts";
import { IMAGE_BUNDLE_NAMES, type ImageBundleName } from "./catalog.ts";

export const IMAGE_ENTRIES: Readonly<Record<ImageBundleName, string>> = {
  agent: ENTRIES.agent,
  "calico-node": ENTRIES["calico-node"],
  cni: ENTRIES.cni,
  calicoctl: ENTRIES.calicoctl,
  "echo-server": ENTRIES["echo-server"],
  "install-cni": "src/agent/cni/install-main.ts",
};

/** The bundle set the images carry, built into `<root>/dist/image-bundles`. */
export function imageBundles(root = REPO_ROOT): BundleSet {
  return {
    root,
    outDir: join(root, "dist", "image-bundles"),
    entries: IMAGE_ENTRIES,
    libraries: [...IMAGE_BUNDLE_NAMES],
  };
}
