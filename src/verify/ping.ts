// Pings from inside a namespace, retried until a deadline instead of a fixed sleep.
import { inNetns, tryRun } from "../effects/exec.ts";
import { assertNetnsName } from "../effects/names.ts";

export interface PingResult {
  fromNetns: string;
  address: string;
  ok: boolean;
  attempts: number;
  /** Round-trip time of the successful reply, in milliseconds. */
  rttMs?: number;
  /** The last ping output when it failed. */
  seen?: string;
}

const RTT = /time=([\d.]+) ms/;

export async function pingOnce(fromNetns: string, address: string, timeoutS = 1) {
  return tryRun(
    inNetns(assertNetnsName(fromNetns), ["ping", "-n", "-c", "1", "-W", String(timeoutS), address]),
  );
}

/** Pings until one reply arrives or `deadlineMs` passes. */
export async function ping(fromNetns: string, address: string, deadlineMs = 5000): Promise<PingResult> {
  const end = Date.now() + deadlineMs;
  let attempts = 0;
  let seen = "";
  while (true) {
    attempts++;
    const r = await pingOnce(fromNetns, address);
    if (r.exitCode === 0) {
      const m = RTT.exec(r.stdout);
      return { fromNetns, address, ok: true, attempts, ...(m ? { rttMs: Number(m[1]) } : {}) };
    }
    seen =
      (r.stdout + r.stderr)
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("---") && !l.startsWith("PING "))
        .pop() ?? `ping exited ${r.exitCode}`;
    if (Date.now() >= end) return { fromNetns, address, ok: false, attempts, seen };
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Runs `jobs` with at most `limit` in flight, keeping result order. */
export async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  job: (t: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await job(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
