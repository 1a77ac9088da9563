// The host side of the guest exec channel (see protocol.ts). It connects to 127.0.0.1:<port> of the
// namespace QEMU runs in, so it runs there: the lab calls it through `guestArgv` (an argv prefix, like
// `ip netns exec`), whose `vm-exec` process stands for the guest command.
import { connect } from "node:net";
import { parseMessage, type GuestSignal } from "./protocol.ts";

export interface GuestEndpoint {
  host: string;
  port: number;
}

export interface GuestCall {
  /** Resolves with the command's exit code; rejects when the channel fails. */
  exit: Promise<number>;
  /** Delivers a signal to the command's process group in the guest. */
  signal(sig: GuestSignal): void;
}

/** Runs argv in the guest, handing its output to `out`/`err` as it comes. */
export function guestCall(
  ep: GuestEndpoint,
  request: { argv: readonly string[]; env?: Record<string, string>; input?: string; timeoutMs?: number },
  out: (text: string) => void,
  err: (text: string) => void,
): GuestCall {
  const sock = connect(ep.port, ep.host);
  const exit = new Promise<number>((resolve, reject) => {
    let buf = "";
    let code: number | null = null;
    sock.setEncoding("utf8");
    sock.on("connect", () => sock.write(JSON.stringify(request) + "\n"));
    sock.on("data", (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const m = parseMessage(line);
          if ("out" in m) out(m.out);
          else if ("err" in m) err(m.err);
          else code = m.exit;
        } catch (e) {
          sock.destroy();
          reject(e as Error);
          return;
        }
      }
    });
    sock.on("error", (e) => reject(new Error(`guest exec ${ep.host}:${ep.port}: ${e.message}`)));
    sock.on("close", () =>
      code === null
        ? reject(new Error(`guest exec ${ep.host}:${ep.port}: closed before the command ended`))
        : resolve(code),
    );
  });
  return {
    exit,
    signal(sig) {
      if (!sock.destroyed) sock.write(JSON.stringify({ signal: sig }) + "\n");
    },
  };
}
