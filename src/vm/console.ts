// Splits the VM's serial console into boot noise (kept, shown on failure), the command's output (streamed
// as it comes) and the exit marker. Pure: feed it chunks, it calls back.
import { exitMarkerPrefix, startMarker } from "./initramfs.ts";

export interface ConsoleSink {
  /** The command's output, passed on as soon as it cannot be the start of the exit marker. */
  output(text: string): void;
  started?(): void;
  exited?(code: number): void;
}

export class ConsoleDemux {
  private state: "boot" | "running" | "done" = "boot";
  private pending = "";
  private bootLog = "";
  private code: number | undefined;
  private readonly start: string;
  private readonly exitPrefix: string;

  constructor(
    nonce: string,
    private readonly sink: ConsoleSink,
  ) {
    this.start = startMarker(nonce);
    this.exitPrefix = exitMarkerPrefix(nonce);
  }

  get phase(): "boot" | "running" | "done" {
    return this.state;
  }
  /** What the console printed before the command started (kernel and init messages). */
  get boot(): string {
    return this.bootLog;
  }
  get exitCode(): number | undefined {
    return this.code;
  }

  push(chunk: string): void {
    if (this.state === "done") return;
    this.pending += chunk;
    for (;;) {
      const nl = this.pending.indexOf("\n");
      if (nl < 0) break;
      const line = this.pending.slice(0, nl + 1);
      this.pending = this.pending.slice(nl + 1);
      this.line(line);
      if (this.phase === "done") return;
    }
    // A partial line: pass on all of it that cannot be the start of the exit marker.
    if (this.state === "running" && this.pending) {
      const hold = this.markerStart(this.pending);
      if (hold > 0) this.sink.output(this.pending.slice(0, hold));
      this.pending = this.pending.slice(hold);
    }
  }

  /** Flushes a trailing partial line (the VM is gone). */
  end(): void {
    if (this.state === "running" && this.pending) this.sink.output(this.pending);
    else if (this.state === "boot") this.bootLog += this.pending;
    this.pending = "";
  }

  /** Where in `text` (a partial line) a possible exit marker begins; text.length when nowhere. */
  private markerStart(text: string): number {
    const full = text.indexOf(this.exitPrefix);
    if (full >= 0) return full;
    for (let i = Math.max(0, text.length - this.exitPrefix.length); i < text.length; i++) {
      if (this.exitPrefix.startsWith(text.slice(i))) return i;
    }
    return text.length;
  }

  private line(line: string): void {
    const bare = line.replace(/\r?\n$/, "").replace(/\r$/, "");
    if (this.state === "boot") {
      if (bare.endsWith(this.start)) {
        this.state = "running";
        this.sink.started?.();
      } else {
        this.bootLog += line;
      }
      return;
    }
    const at = bare.indexOf(this.exitPrefix);
    if (at >= 0) {
      const n = Number(bare.slice(at + this.exitPrefix.length));
      if (/^\d{1,3}$/.test(bare.slice(at + this.exitPrefix.length)) && n <= 255) {
        // The command's last line may lack its newline: the marker then follows it on the same line.
        if (at > 0) this.sink.output(bare.slice(0, at));
        this.state = "done";
        this.code = n;
        this.sink.exited?.(n);
        return;
      }
    }
    this.sink.output(line);
  }
}
