// Inside a VM host: brings up the management NIC and serves the guest exec channel (see protocol.ts).
// Every command is spawned with its argv as given (no shell), as tryRun does on the host.
//   node dist/bin/vm-guest.mjs [--port N]
import { createServer } from "node:net";
import { readdir, readFile } from "node:fs/promises";
import { run, tryRun } from "../../effects/exec.ts";
import {
  GUEST_EXEC_PORT,
  GUEST_MGMT_ADDRESS,
  GUEST_MGMT_CIDR,
  MGMT_MAC,
  parseRequest,
  type ExecResponse,
} from "./protocol.ts";

async function interfaceWithMac(mac: string): Promise<string> {
  for (const name of await readdir("/sys/class/net")) {
    const addr = (await readFile(`/sys/class/net/${name}/address`, "utf8").catch(() => "")).trim();
    if (addr.toLowerCase() === mac) return name;
  }
  throw new Error(`no interface with the management MAC ${mac}`);
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
    let answered = false;
    const answer = (r: ExecResponse) => {
      if (answered) return;
      answered = true;
      sock.end(JSON.stringify(r) + "\n");
    };
    sock.setEncoding("utf8");
    sock.on("error", () => undefined);
    sock.on("data", (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf("\n");
      if (nl < 0 || answered) return;
      let req;
      try {
        req = parseRequest(buf.slice(0, nl));
      } catch (e) {
        answer({ stdout: "", stderr: `vm-guest: bad request: ${(e as Error).message}\n`, exitCode: -1 });
        return;
      }
      // The request's environment over the guest's own (which adds VM_RUN=1 and little else).
      void tryRun(req.argv, {
        ...(req.env ? { env: req.env } : {}),
        ...(req.input !== undefined ? { input: req.input } : {}),
        ...(req.timeoutMs ? { timeoutMs: req.timeoutMs } : {}),
      }).then(answer);
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
