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
const ENOBUFS = /No buffer space available/;

export async function pingOnce(fromNetns: string, address: string, timeoutS = 1) {
  return tryRun(
    inNetns(assertNetnsName(fromNetns), ["ping", "-n", "-c", "1", "-W", String(timeoutS), address]),
  );
}

/**
 * The kernel's neighbour table (ARP) is one for all namespaces, and only its dynamic entries count against
 * net.ipv4.neigh.default.gc_thresh3 (1024 by default). A lab with many hosts and pods can fill it: sendmsg
 * then fails with ENOBUFS, which says nothing of the cause on its own.
 */
export const NEIGHBOUR_TABLE_FULL =
  "the kernel's neighbour (ARP) table is full: one table for all namespaces, at most " +
  "net.ipv4.neigh.default.gc_thresh3 dynamic entries (1024 by default; dmesg: 'neighbor table overflow!'). " +
  "Fix: run fewer hosts or pods at once, or raise it in the root namespace " +
  "(sysctl -w net.ipv4.neigh.default.gc_thresh3=4096, which the whole machine shares)";

/**
 * What a failed ping printed, in one line, with the cause spelled out where the output only hints it:
 * `tableFull` when this or an earlier attempt met ENOBUFS. Pure.
 */
export function pingFailure(output: string, exitCode: number, tableFull = false): string {
  const last =
    output
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("---") && !l.startsWith("PING "))
      .pop() ?? `ping exited ${exitCode}`;
  return tableFull || ENOBUFS.test(output) ? `${last} (${NEIGHBOUR_TABLE_FULL})` : last;
}

/** Pings until one reply arrives or `deadlineMs` passes. */
export async function ping(fromNetns: string, address: string, deadlineMs = 5000): Promise<PingResult> {
  const end = Date.now() + deadlineMs;
  let attempts = 0;
  let seen = "";
  let tableFull = false;
  while (true) {
    attempts++;
    const r = await pingOnce(fromNetns, address);
    if (r.exitCode === 0) {
      const m = RTT.exec(r.stdout);
      return { fromNetns, address, ok: true, attempts, ...(m ? { rttMs: Number(m[1]) } : {}) };
    }
    tableFull ||= ENOBUFS.test(r.stdout + r.stderr);
    seen = pingFailure(r.stdout + r.stderr, r.exitCode, tableFull);
    if (Date.now() >= end) return { fromNetns, address, ok: false, attempts, seen };
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Runs `jobs` with at most `limit` in flight, keeping result order. */
/** What a ping check says it saw: "reply in 0.1 ms", or how many attempts got no reply and why. */
export const pingSeen = (r: PingResult) =>
  r.ok ? `reply in ${r.rttMs ?? "?"} ms` : `no reply after ${r.attempts} attempts: ${r.seen ?? ""}`;

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
