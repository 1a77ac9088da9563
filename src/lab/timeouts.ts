// How long the lab waits for its processes. The defaults suit a normal machine; a slow one (a VM under
// TCG, where a node process alone takes tens of seconds to start) scales them all with
// CALICO_LAB_TIMEOUT_SCALE (a number ≥ 1; scripts/ci-vm sets it), instead of every limit growing for all.
export const TIMEOUT_SCALE_ENV = "CALICO_LAB_TIMEOUT_SCALE";

export function timeoutScale(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[TIMEOUT_SCALE_ENV];
  if (raw === undefined || raw === "") return 1;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 1 || n > 100)
    throw new Error(`${TIMEOUT_SCALE_ENV}="${raw}": use a number from 1 to 100 (e.g. 5 in a VM under TCG)`);
  return n;
}

/** `ms` scaled by CALICO_LAB_TIMEOUT_SCALE. */
export function scaledMs(ms: number, env: NodeJS.ProcessEnv = process.env): number {
  return Math.round(ms * timeoutScale(env));
}
