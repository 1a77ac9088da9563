// The daemon's BIRD: started (or adopted from a previous agent) when a pool needs BGP, bird.conf written
// and `birdc configure`d when it changed, stopped when no pool needs it. It knows which text the running
// BIRD has loaded: a BIRD that just started read the file as last written; an adopted one, unknown.
import { writeIfChanged, type RenderedBird } from "../confd/confd.ts";
import { BirdSupervisor } from "../bird/supervisor.ts";
import type { runFiles } from "./status.ts";

export class BirdSync {
  private readonly bird: BirdSupervisor;
  /** The bird.conf text last written, and the text the running BIRD has loaded (null: unknown). */
  private written: string | null = null;
  private loaded: string | null = null;

  constructor(
    private readonly files: ReturnType<typeof runFiles>,
    private readonly log: (m: string) => void,
    /** BIRD started, stopped or died. */
    onChange: () => void,
  ) {
    this.bird = new BirdSupervisor(
      { config: files.birdConf, socket: files.birdSocket, pidFile: files.birdPid, logFile: files.birdLog },
      log,
      (spawned) => {
        // A BIRD that just started read bird.conf as it is on disk now: the last text written.
        if (spawned) this.loaded = this.written;
        onChange();
      },
    );
  }

  get pid(): number | null {
    return this.bird.pid;
  }

  get restarts(): number {
    return this.bird.restarts;
  }

  get running(): boolean {
    return this.bird.running;
  }

  /** Whether BIRD has loaded what was last written (nothing to do for it in a pass without changes). */
  get upToDate(): boolean {
    return this.loaded === this.written;
  }

  /**
   * Writes bird.conf; unless `stopped()`, starts BIRD when it is not running and reconfigures it when
   * what it loaded is not this text. Throws when BIRD refuses the configuration (retried next pass).
   */
  async apply(conf: RenderedBird, stopped: () => boolean): Promise<void> {
    await writeIfChanged(this.files.birdConf, conf.text);
    this.written = conf.text;
    if (stopped()) return;
    if (!this.bird.running) {
      // Adopted: its configuration may predate this agent, so reconfigure below.
      if ((await this.bird.start()) === "adopted") this.loaded = null;
    }
    if (this.bird.running && this.loaded !== conf.text) {
      // Compared with what BIRD loaded, not with the file: a failed configure is retried next pass.
      const r = await this.bird.reconfigure();
      if (!r.ok) throw new Error(`birdc configure: ${r.text}`);
      this.loaded = conf.text;
      this.log(`bird.conf (${conf.peers.length} peers): BIRD reconfigured`);
    }
  }

  /** No pool needs BGP: BIRD stops (it may start again when one does). Returns whether it ran. */
  async stopIfRunning(): Promise<boolean> {
    if (!this.bird.running) return false;
    this.log("no pool needs BGP (VXLAN only): stopping BIRD");
    await this.bird.stop();
    return true;
  }

  /** Stops BIRD for good (the daemon exits). */
  close(): Promise<void> {
    return this.bird.close();
  }
}
