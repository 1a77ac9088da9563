// A pod-to-pod pinger running while a fault is injected: `ping -D -n -i 0.05` from one pod's namespace to
// another pod's address, replies parsed as they arrive, the loss computed when it stops (faults-loss.ts).
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { assertNetnsName } from "../../src/effects/names.ts";
import { lossOf, parsePingReply, parseTransmitted, type Loss, type PingReply } from "./faults-loss.ts";

export const PROBE_INTERVAL_MS = 50;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `cond` every `stepMs` until it holds or `deadline` (ms since the epoch) passes.
 * Returns when it held (ms since the epoch), or null.
 */
export async function pollUntil(
  cond: () => Promise<boolean>,
  deadline: number,
  stepMs = 50,
): Promise<number | null> {
  for (;;) {
    if (await cond().catch(() => false)) return Date.now();
    if (Date.now() >= deadline) return null;
    await sleep(Math.min(stepMs, Math.max(1, deadline - Date.now())));
  }
}

export class PodPinger {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly replies: PingReply[] = [];
  private text = "";
  private closed: Promise<void>;
  private stopped: { replies: PingReply[]; transmitted: number } | null = null;

  constructor(
    readonly fromNetns: string,
    readonly toIp: string,
    readonly intervalMs = PROBE_INTERVAL_MS,
  ) {
    // -W 1: a reply later than a second is a lost probe; -D: arrival timestamps.
    const argv = ["ip", "netns", "exec", assertNetnsName(fromNetns), "ping", "-D", "-n"];
    argv.push("-i", String(intervalMs / 1000), "-W", "1", toIp);
    this.child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdin.end();
    const lines = createInterface({ input: this.child.stdout });
    lines.on("line", (line) => {
      this.text += `${line}\n`;
      const r = parsePingReply(line);
      if (r) this.replies.push(r);
    });
    this.child.stderr.on("data", (c: Buffer) => (this.text += c.toString()));
    this.closed = new Promise((resolve) => this.child.once("close", () => resolve()));
  }

  /** The highest sequence number sent so far is at least this (the last reply's; 0 before any). */
  get lastSeq(): number {
    return this.replies[this.replies.length - 1]?.seq ?? 0;
  }

  /** When the last reply arrived (ms since the epoch), or 0. */
  get lastReplyAt(): number {
    return this.replies[this.replies.length - 1]?.at ?? 0;
  }

  /** Waits for `n` consecutive replies (consecutive sequence numbers) after now. True if they came. */
  async waitConsecutive(n: number, deadline: number): Promise<boolean> {
    const start = this.replies.length;
    const ok = await pollUntil(
      async () => {
        let run = 0;
        for (let i = Math.max(start, 1); i < this.replies.length; i++) {
          run = this.replies[i]!.seq === this.replies[i - 1]!.seq + 1 ? run + 1 : 0;
          if (run + 1 >= n) return true;
        }
        return false;
      },
      deadline,
      this.intervalMs,
    );
    return ok !== null;
  }

  /** SIGINT (ping prints its statistics), then the replies and how many probes were sent. */
  async stop(): Promise<{ replies: PingReply[]; transmitted: number }> {
    if (this.stopped) return this.stopped;
    this.child.kill("SIGINT");
    const killer = setTimeout(() => this.child.kill("SIGKILL"), 3000);
    await this.closed;
    clearTimeout(killer);
    const transmitted = parseTransmitted(this.text) ?? this.lastSeq;
    this.stopped = { replies: [...this.replies], transmitted };
    return this.stopped;
  }

  /** Stops, and the loss among the probes from `fromSeq` on. */
  async loss(fromSeq: number): Promise<Loss> {
    const { replies, transmitted } = await this.stop();
    return lossOf(replies, transmitted, this.intervalMs, { fromSeq });
  }

  /** The raw output (for a failure message). */
  get output(): string {
    return this.text;
  }
}
