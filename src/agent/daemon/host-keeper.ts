// What the daemon keeps on its host besides Felix's dataplane: its underlay address and routes, its
// workloads' routes (felix/host.ts plans them). While the underlay is down its routes wait (said once);
// when it is up again, BGP sessions that went down meanwhile are retried at once.
import { birdc, showProtocols } from "../bird/birdc.ts";
import { parseBirdProtocols } from "../status/node-status.ts";
import { applyHost } from "../felix/dataplane-host.ts";
import type { HostPlan } from "../felix/host.ts";

/**
 * `birdc restart` of every BGP session that is not Established: after the underlay came back, sessions
 * that went down meanwhile (hold time 9 s) would otherwise wait out their error wait (up to 5 s) first.
 * Returns the sessions retried.
 */
export async function retryDownSessions(socket: string): Promise<string[]> {
  const peers = parseBirdProtocols(await showProtocols(socket).catch(() => ""));
  const down = peers.filter((p) => !p.info.startsWith("Established")).map((p) => p.protocol);
  for (const p of down) await birdc(socket, ["restart", p]);
  return down;
}

export class HostKeeper {
  /** Underlay routes last reported as waiting for the interface (said once, not every pass). */
  private waitingSaid = "";

  constructor(
    private readonly log: (m: string) => void,
    /** BIRD's control socket while BIRD runs (null: not running). */
    private readonly birdSocket: () => string | null,
  ) {}

  async apply(host: HostPlan): Promise<void> {
    const { changes, waiting } = await applyHost(host);
    if (changes.length > 0) this.log(`felix: restored ${changes.join("; ")}`);
    const said = waiting.join("; ");
    if (said && said !== this.waitingSaid)
      this.log(`felix: ${host.underlayIf} is down; its routes come back when it is up: ${said}`);
    const back = this.waitingSaid !== "" && said === "";
    this.waitingSaid = said;
    const socket = this.birdSocket();
    if (!back || socket === null) return;
    const retried = await retryDownSessions(socket);
    if (retried.length > 0)
      this.log(`felix: ${host.underlayIf} is up again: BGP sessions ${retried.join(", ")} retried`);
  }
}
