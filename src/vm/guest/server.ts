// Inside a VM host: brings up the management NIC and serves the guest exec channel (see protocol.ts).
// Every command is spawned with its argv as given (no shell), in a process group of its own, and lives as
// long as the connection that asked for it.
//   node dist/bin/vm-guest.mjs [--port N]
import { spawn } from "node:child_process";
import { createServer, type Socket } from "node:net";
import { readdir, readFile } from "node:fs/promises";
import { constants } from "node:os";
import { run } from "../../effects/exec.ts";
import {
  EXIT_NOT_STARTED,
  GUEST_EXEC_PORT,
  GUEST_MGMT_ADDRESS,
  GUEST_MGMT_CIDR,
  MGMT_MAC,
  parseRequest,
  parseSignal,
  type ExecRequest,
  type GuestMessage,
} from "./protocol.ts";

/** After the host side went away: TERM, then KILL this much later if the command is still there. */
const ORPHAN_GRACE_MS = 5000;

async function interfaceWithMac(mac: string): Promise<string> {
  for (const name of await readdir("/sys/class/net")) {
    const addr = (await readFile(`/sys/class/net/${name}/address`, "utf8").catch(() => "")).trim();
    if (addr.toLowerCase() === mac) return name;
  }
  throw new Error(`no interface with the management MAC ${mac}`);
}

function serve(sock: Socket, req: ExecRequest, more: { onLine: (line: string) => void }): void {
  const send = (m: GuestMessage) => {
    if (!sock.destroyed) sock.write(JSON.stringify(m) + "\n");
  };
  const child = spawn(req.argv[0]!, req.argv.slice(1), {
    env: { ...process.env, ...(req.env ?? {}) },
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  let done = false;
  const signal = (sig: NodeJS.Signals) => {
    if (done || !child.pid) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      /* gone */
    }
  };
  child.stdout.setEncoding("utf8").on("data", (out: string) => send({ out }));
  child.stderr.setEncoding("utf8").on("data", (err: string) => send({ err }));
  child.stdin.on("error", () => undefined);
  child.stdin.end(req.input ?? "");
  const timer = req.timeoutMs ? setTimeout(() => signal("SIGKILL"), req.timeoutMs) : null;
  child.once("error", (e) => {
    done = true;
    send({ err: `${req.argv[0]}: ${e.message}\n` });
    sock.end(JSON.stringify({ exit: EXIT_NOT_STARTED }) + "\n");
  });
  child.once("close", (code, sig) => {
    if (done) return;
    done = true;
    if (timer) clearTimeout(timer);
    const n = sig ? 128 + (constants.signals[sig] ?? 0) : (code ?? 1);
    sock.end(JSON.stringify({ exit: n }) + "\n");
  });
  more.onLine = (line) => {
    try {
      signal(parseSignal(line));
    } catch {
      /* not ours to act on */
    }
  };
  // The host side went away (its vm-exec was killed, or the lab is being torn down): stop the command.
  sock.on("close", () => {
    if (done) return;
    signal("SIGTERM");
    setTimeout(() => signal("SIGKILL"), ORPHAN_GRACE_MS).unref();
  });
}

async function main(): Promise<void> {
  const i = process.argv.indexOf("--port");
  const port = i >= 0 ? Number(process.argv[i + 1]) : GUEST_EXEC_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`bad --port ${process.argv[i + 1]}`);
  const nic = await interfaceWithMac(MGMT_MAC);
  await run(["ip", "link", "set", "dev", "lo", "up"]);
  await run(["ip", "addr", "replace", GUEST_MGMT_CIDR, "dev", nic]);
  await run(["ip", "link", "set", "dev", nic, "up"]);
  const server = createServer((sock) => {
    let buf = "";
    const conn = { onLine: (_line: string) => undefined as void, started: false };
    sock.setEncoding("utf8");
    sock.on("error", () => undefined);
    sock.on("data", (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (conn.started) {
          conn.onLine(line);
          continue;
        }
        conn.started = true;
        let req;
        try {
          req = parseRequest(line);
        } catch (e) {
          sock.write(JSON.stringify({ err: `vm-guest: bad request: ${(e as Error).message}\n` }) + "\n");
          sock.end(JSON.stringify({ exit: 2 }) + "\n");
          return;
        }
        serve(sock, req, conn);
      }
    });
  });
  server.listen(port, GUEST_MGMT_ADDRESS, () =>
    process.stdout.write(`vm-guest: serving on ${GUEST_MGMT_ADDRESS}:${port} (${nic})\n`),
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`vm-guest: ${(e as Error).message}\n`);
  process.exit(1);
});
