// Talking to a running BIRD over its control socket (birdc -s <socket>). A unix socket: works from any
// network namespace.
import { tryRun } from "../../effects/exec.ts";

export const BIRD_BIN = "/usr/sbin/bird";
export const BIRDC_BIN = "/usr/sbin/birdc";

export interface BirdcResult {
  ok: boolean;
  text: string;
}

export async function birdc(socket: string, args: readonly string[], timeoutMs = 5000): Promise<BirdcResult> {
  const r = await tryRun([BIRDC_BIN, "-s", socket, ...args], { timeoutMs });
  return { ok: r.exitCode === 0, text: (r.stdout + r.stderr).trim() };
}

/** `birdc configure`: true when BIRD accepted the new configuration. */
export async function birdConfigure(socket: string): Promise<BirdcResult> {
  const r = await birdc(socket, ["configure"]);
  // BIRD answers "Reconfigured" / "Reconfiguration in progress" / "Reconfiguration already in progress,
  // queueing new config"; a parse error is "<file>:<line>:<col> <message>".
  return { ok: r.ok && /Reconfigur/.test(r.text) && !/error/i.test(r.text), text: r.text };
}

export async function showProtocols(socket: string): Promise<string> {
  const r = await birdc(socket, ["show", "protocols"]);
  if (!r.ok) throw new Error(`birdc show protocols failed: ${r.text}`);
  return r.text;
}
