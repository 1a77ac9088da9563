// Where a lab's time goes: when CALICO_LAB_TIMINGS names a file, each timed span (a provider operation, the
// program, a verification category) is appended to it as one JSON line, in wall-clock milliseconds, from
// whichever process ran it (the program, the dynamic-provider process). bench/lab-cycle reads the file and
// prints the time budget. Unset (always, outside a bench), it costs nothing.
import { appendFileSync } from "node:fs";

export const TIMINGS_ENV = "CALICO_LAB_TIMINGS";

export interface TimingSpan {
  /** What ran: a resource kind ("pod"), "program", or "verify:<category>". */
  what: string;
  /** The operation: create, delete, update, diff, read; run for the others. */
  op: string;
  /** Which one: a pod's or a node's name, or the resource id. */
  label?: string;
  startMs: number;
  endMs: number;
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable between processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function recordTiming(span: TimingSpan, env: NodeJS.ProcessEnv = process.env): void {
  const file = env[TIMINGS_ENV];
  if (!file) return;
  try {
    appendFileSync(file, JSON.stringify(span) + "\n");
  } catch {
    // A bench's file that cannot be written never fails a lab.
  }
}

/** Runs `fn`, recording its span (also when it throws). */
export async function timed<T>(
  what: string,
  op: string,
  label: string | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  const startMs = nowMs();
  try {
    return await fn();
  } finally {
    recordTiming({ what, op, ...(label ? { label } : {}), startMs, endMs: nowMs() });
  }
}
