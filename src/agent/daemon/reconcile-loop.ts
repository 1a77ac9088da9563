// When the daemon runs a reconcile pass: passes never overlap, a request during one runs one more after
// it, and what the requests asked for accumulates (a full pass, or applying the dataplane from the copy
// held). A failed pass is retried, in full, a second later; its error is reported once until it changes.

/** What one pass is asked to do. */
export interface PassRequest {
  /** Apply even if the datastore's inputs are those of the last applied pass. */
  apply: boolean;
  /** Read the datastore in full first (the resync, a retry after an error). */
  full: boolean;
}

export interface LoopHandlers {
  pass: (r: PassRequest) => Promise<unknown>;
  /** A pass failed (the loop retries it in full a second later). */
  failed: (message: string) => Promise<void>;
  /** A pass succeeded. */
  succeeded: () => Promise<void>;
}

export class ReconcileLoop {
  private running = false;
  private again = false;
  private fullWanted = false;
  private applyWanted = false;
  private stopped = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly h: LoopHandlers) {}

  /**
   * Asks for a reconcile pass. `full`: apply even if the datastore's inputs are those of the last applied
   * pass (the resync repairs drift in the dataplane; an event whose inputs changed nothing has nothing
   * to apply).
   */
  kick(full = false): void {
    if (this.stopped) return;
    this.fullWanted ||= full;
    this.run();
  }

  /** A pass that applies the dataplane from the copy of the datastore held (a kernel change woke it). */
  kickDataplane(): void {
    if (this.stopped) return;
    this.applyWanted = true;
    this.run();
  }

  /**
   * Runs `first` (the startup's pass) as a pass of the loop: requests meanwhile only mark "run again",
   * which `resume` then runs.
   */
  async exclusive<T>(first: () => Promise<T>): Promise<T> {
    this.running = true;
    try {
      return await first();
    } finally {
      this.running = false;
    }
  }

  /** Runs the pass asked for during `exclusive`, if any. */
  resume(): void {
    if (this.again) this.kick();
  }

  /** No more passes after the one in flight (if any). */
  halt(): void {
    this.stopped = true;
  }

  /** Resolves when the pass in flight is done, or after `waitMs`. */
  async settled(waitMs: number): Promise<void> {
    await Promise.race([this.inFlight, new Promise((r) => setTimeout(r, waitMs))]);
  }

  private run(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.inFlight = (async () => {
      try {
        do {
          this.again = false;
          const full = this.fullWanted;
          const apply = full || this.applyWanted;
          this.fullWanted = false;
          this.applyWanted = false;
          try {
            await this.h.pass({ apply, full });
            await this.h.succeeded();
          } catch (e) {
            if (this.stopped) break;
            await this.h.failed((e as Error).message);
            setTimeout(() => this.kick(true), 1000);
          }
        } while (this.again && !this.stopped);
      } finally {
        this.running = false;
      }
    })();
  }
}
