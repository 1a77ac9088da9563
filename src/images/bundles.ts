// Our bundles as the images carry them. The lab's own bundles (src/build/bundles.ts) check themselves
// against their sources when they start and rebuild when stale, which needs the project beside them; in an
// image there is none, so these are built as plain modules (the library form: the entry's code, no
// self-check) into a folder of the image build. Freshness is still decided by the same meta files.
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

/** The bundle set built into `<outDir>/bundles` for the images. */
export function imageBundles(outDir: string, root = REPO_ROOT): BundleSet {
  return {
    root,
    outDir: join(outDir, "bundles"),
    entries: IMAGE_ENTRIES,
    libraries: [...IMAGE_BUNDLE_NAMES],
  };
}
