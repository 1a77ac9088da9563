// Watching this namespace's kernel for changes to links, addresses and routes (`ip -o monitor`), as Felix
// subscribes to netlink: a route or device removed by hand wakes the agent at once instead of waiting
// for the periodic resync, which can then be rare (Felix refreshes routes every 90 s). The agent's own
// changes wake it too; the pass that follows finds nothing to change and makes no events, so it settles.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { debounce } from "../debounce.ts";

export interface KernelWatch {
  close(): void;
}

export interface KernelWatchOptions {
  /** Quiet time after the last event before `onChange` runs (ms). */
  debounceMs?: number;
  /** A line of `ip monitor` output is ignored when this returns false. Default: keep all. */
  relevant?: (line: string) => boolean;
  onError?: (e: Error) => void;
}

/**
 * Whether a line of `ip -o monitor` output concerns what the agent programs (tunl0, vxlan.calico, their
 * addresses, Felix's routes, the underlay interface with its address and routes, a workload's /32 route
 * going away). Not: BIRD's routes (BIRD puts back what is deleted on its next kernel scan), and workload
 * interfaces appearing, changing or going, and their routes being added (the CNI plugin's doing; a
 * deleted pod's route goes with its interface and wakes a pass that finds nothing to do). A block claimed
 * anywhere makes BIRD add a route on every host: in a 50-host lab, watching those woke all 50 agents for
 * each of the 50 blocks. Pure.
 */
export function kernelEventMatters(line: string): boolean {
  if (/\bproto bird\b/.test(line)) return false;
  if (/(^|[\s:])cali[0-9a-f]/.test(line)) return /^Deleted (?!\d+: )\S+ dev cali[0-9a-f]/.test(line);
  return true;
}

/** Starts `ip -o monitor link address route` in the current namespace; `onChange` runs debounced. */
export function watchKernel(onChange: () => void, opts: KernelWatchOptions = {}): KernelWatch {
  const keep = opts.relevant ?? (() => true);
  let closed = false;
  let child: ChildProcess | null = null;
  let restart: NodeJS.Timeout | null = null;
  const { bump, cancel } = debounce(() => {
    if (!closed) onChange();
  }, opts.debounceMs ?? 100);
  const start = () => {
    const c = spawn("ip", ["-o", "monitor", "link", "address", "route"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    child = c;
    createInterface({ input: c.stdout! }).on("line", (line) => {
      if (keep(line)) bump();
    });
    c.once("error", (e) => opts.onError?.(new Error(`ip monitor: ${e.message}`)));
    c.once("exit", (code, signal) => {
      if (closed) return;
      // Gone (killed by hand, say): what happened meanwhile is unknown, so count it as a change.
      opts.onError?.(new Error(`ip monitor exited (code ${code}, signal ${signal}); restarting`));
      bump();
      restart = setTimeout(start, 1000);
    });
  };
  start();
  return {
    close() {
      closed = true;
      cancel();
      if (restart) clearTimeout(restart);
      child?.kill("SIGTERM");
    },
  };
}
