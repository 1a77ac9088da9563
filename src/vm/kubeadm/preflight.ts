// Preflight for the kubeadm path: can the VM hosts reach the package repositories? The probe is injected
// (tests use a fake); the real one sends an HTTP HEAD with a short timeout, and only when the operator opts
// in with CALICO_LAB_PROBE_REPOS=1: the default is to touch no external host at all. When the repositories
// are not reachable (or not probed), the kubeadm part is skipped with a plain notice, never reported as passed.
import { REPOSITORY_URLS } from "./packages.ts";

export type Probe = (url: string, timeoutMs: number) => Promise<boolean>;

export const PROBE_OPT_IN = "CALICO_LAB_PROBE_REPOS";

export const SKIP_NOTICE = "skipped: package repositories unreachable";

export interface PreflightResult {
  reachable: boolean;
  /** Per URL: reachable or why not. */
  details: { url: string; ok: boolean; why?: string }[];
  /** The line to print when the kubeadm part is skipped; absent when it can run. */
  notice?: string;
}

/** The real probe: HTTP HEAD, any status below 500 counts as reachable. */
export const httpHeadProbe: Probe = async (url, timeoutMs) => {
  try {
    const r = await fetch(url, {
      method: "HEAD",
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "manual",
    });
    return r.status < 500;
  } catch {
    return false;
  }
};

/** The probe to use: the real one only with CALICO_LAB_PROBE_REPOS=1, otherwise none. */
export function probeFromEnv(env: Readonly<Record<string, string | undefined>>): Probe | undefined {
  return env[PROBE_OPT_IN] === "1" ? httpHeadProbe : undefined;
}

export async function preflight(
  probe: Probe | undefined,
  urls = REPOSITORY_URLS,
  timeoutMs = 3000,
): Promise<PreflightResult> {
  if (!probe) {
    const why = `not probed (set ${PROBE_OPT_IN}=1 to let preflight contact them)`;
    return {
      reachable: false,
      details: urls.map((url) => ({ url, ok: false, why })),
      notice: `${SKIP_NOTICE} (${why}); the kubeadm part did not run`,
    };
  }
  const details: PreflightResult["details"] = [];
  for (const url of urls) {
    const ok = await probe(url, timeoutMs).catch(() => false);
    details.push(ok ? { url, ok } : { url, ok, why: `no answer within ${timeoutMs} ms` });
  }
  const bad = details.filter((d) => !d.ok);
  if (bad.length === 0) return { reachable: true, details };
  return {
    reachable: false,
    details,
    notice: `${SKIP_NOTICE} (${bad.map((d) => d.url).join(", ")}); the kubeadm part did not run`,
  };
}
