// The catalog's inputs on this machine: pinned versions, where node really is, and which pause image
// kubeadm expects (asked of kubeadm itself when it is built).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { delimiter, join } from "node:path";
import { REPO_ROOT } from "../build/bundles.ts";
import { ECHO_PORT } from "../lab/topology.ts";
import type { CatalogInputs } from "./catalog.ts";
import { KUBERNETES_VERSION, PAUSE_VERSION } from "../kubernetes/version.ts";

/** The Kubernetes release the lab pins (one constant: kubeadm's stamped version, the kube-* images' tag). */
export { KUBERNETES_VERSION };
/** What kubeadm v1.34 lists for the sandbox image, used until .tools/k8s/bin/kubeadm can say. */
export const DEFAULT_PAUSE_REF = `registry.k8s.io/pause:${PAUSE_VERSION}`;
export const KUBERNETES_BIN = ".tools/k8s/bin";

/** The pause image among `kubeadm config images list` lines. */
export function pauseFromImagesList(text: string): string | null {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => /^[a-z0-9.-]+(:\d+)?\/(.+\/)?pause:[A-Za-z0-9_.-]+$/.test(l)) ?? null
  );
}

/** The real path of the node on PATH (what `command -v node` finds, symlinks resolved). */
export function hostNodePath(path = process.env.PATH ?? ""): string {
  for (const dir of path.split(delimiter)) {
    const p = join(dir || ".", "node");
    if (existsSync(p)) return realpathSync(p);
  }
  return realpathSync(process.execPath);
}

export interface PauseRef {
  ref: string;
  /** Where it came from, for the build's log. */
  source: string;
}

export function expectedPauseRef(root = REPO_ROOT, version = KUBERNETES_VERSION): PauseRef {
  const kubeadm = join(root, KUBERNETES_BIN, "kubeadm");
  if (!existsSync(kubeadm)) return { ref: DEFAULT_PAUSE_REF, source: `assumed (${kubeadm} not built yet)` };
  const r = spawnSync(kubeadm, ["config", "images", "list", "--kubernetes-version", version], {
    encoding: "utf8",
  });
  const ref = r.status === 0 ? pauseFromImagesList(r.stdout) : null;
  if (ref === null)
    throw new Error(
      `kubeadm config images list --kubernetes-version ${version} named no pause image: ${(r.stderr || r.stdout).trim()}`,
    );
  return { ref, source: "kubeadm config images list" };
}

export function catalogInputs(root = REPO_ROOT, pauseRef = expectedPauseRef(root).ref): CatalogInputs {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  return {
    kubernetesVersion: KUBERNETES_VERSION,
    pauseRef,
    labVersion: pkg.version,
    nodePath: hostNodePath(),
    kubernetesBin: KUBERNETES_BIN,
    echoPort: ECHO_PORT,
  };
}
