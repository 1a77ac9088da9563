// The host side of the guest exec channel (see protocol.ts): runs one argv inside a VM host and returns
// what tryRun returns for a local one. It connects to 127.0.0.1:<port> of the namespace QEMU runs in, so
// it runs there: the lab calls it through `guestArgv` (an argv prefix, like `ip netns exec`).
import { connect } from "node:net";
import type { RunOptions, RunResult } from "../../effects/exec.ts";
import { parseResponse } from "./protocol.ts";

export interface GuestEndpoint {
  host: string;
  port: number;
}

/** Runs argv in the guest behind the endpoint. Rejects when the channel fails (not when the command does). */
export function guestRun(
  ep: GuestEndpoint,
  argv: readonly string[],
  options: RunOptions & { fullEnv?: Record<string, string> } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const sock = connect(ep.port, ep.host);
    let buf = "";
    sock.setEncoding("utf8");
    sock.on("connect", () => {
      const env = options.fullEnv ?? { ...(process.env as Record<string, string>), ...(options.env ?? {}) };
      sock.write(
        JSON.stringify({
          argv,
          env,
          ...(options.input !== undefined ? { input: options.input } : {}),
          ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
        }) + "\n",
      );
    });
    sock.on("data", (c: string) => (buf += c));
    sock.on("error", (e) => reject(new Error(`guest exec ${ep.host}:${ep.port}: ${e.message}`)));
    sock.on("end", () => {
      const line = buf.split("\n")[0] ?? "";
      try {
        resolve(parseResponse(line));
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}
