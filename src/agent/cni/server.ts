// The agent's side of the lab's CNI executable (shim/main.go): a local socket on which each connection
// carries one CNI call, {"env":{CNI_*…},"stdin":"<network config>"} on one line, answered with
// {"exitCode":n,"stdout":"<result or error JSON>"} on one line. The call runs in the agent's process, in
// the host's namespace where the agent runs, with the datastore connection the agent holds.
import { createServer, type Server, type Socket } from "node:net";
import { rm } from "node:fs/promises";
import type { Datastore } from "../datastore/etcd.ts";
import type { NetConf } from "./args.ts";
import { runCni, type CniOutcome } from "./run.ts";

/** A request line longer than this is refused (a network config is a few hundred bytes). */
const MAX_REQUEST = 1 << 20;

export interface CniRequest {
  env: Record<string, string>;
  stdin: string;
}

/** The request line as the executable sends it, or why it is not one. */
export function parseCniRequest(line: string): CniRequest | string {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    return `the request is not JSON: ${(e as Error).message}`;
  }
  const r = raw as Partial<CniRequest> | null;
  if (typeof r !== "object" || r === null || typeof r.stdin !== "string") return `the request has no "stdin"`;
  if (typeof r.env !== "object" || r.env === null || Object.values(r.env).some((v) => typeof v !== "string"))
    return `the request's "env" must map names to strings`;
  // Only what a CNI call is given: the plugin never sees the agent's own environment.
  const env = Object.fromEntries(
    Object.entries(r.env).filter(([k]) => k.startsWith("CNI_") || k === "NODENAME"),
  );
  return { env, stdin: r.stdin };
}

export interface CniServerOptions {
  socketPath: string;
  /** The agent's datastore connection when the call's network config names the agent's etcd. */
  datastoreFor: (conf: NetConf) => Datastore | undefined;
  log: (m: string) => void;
}

export class CniServer {
  private server: Server | null = null;
  private readonly open = new Set<Socket>();

  constructor(private readonly o: CniServerOptions) {}

  /** Listens on the socket (one a dead agent left behind is replaced). */
  async start(): Promise<void> {
    await rm(this.o.socketPath, { force: true });
    const server = createServer((conn) => this.serve(conn));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.o.socketPath, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (e) => this.o.log(`CNI socket: ${e.message}`));
    this.server = server;
  }

  /** Stops listening, drops open connections and removes the socket. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    for (const c of this.open) c.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
    await rm(this.o.socketPath, { force: true });
  }

  private serve(conn: Socket): void {
    this.open.add(conn);
    conn.on("close", () => this.open.delete(conn));
    conn.on("error", () => undefined);
    let buf = "";
    let done = false;
    const reply = (r: CniOutcome) => {
      conn.end(JSON.stringify({ exitCode: r.exitCode, stdout: r.stdout }) + "\n");
    };
    conn.setEncoding("utf8");
    conn.on("data", (chunk: string) => {
      if (done) return;
      buf += chunk;
      const nl = buf.indexOf("\n");
      if (nl < 0 && buf.length <= MAX_REQUEST) return;
      done = true;
      if (nl < 0) return reply(refusal(`the request is longer than ${MAX_REQUEST} bytes`));
      const req = parseCniRequest(buf.slice(0, nl));
      if (typeof req === "string") return reply(refusal(req));
      void this.call(req).then(reply);
    });
  }

  private async call(req: CniRequest): Promise<CniOutcome> {
    const started = performance.now();
    const out = await runCni(req.env, req.stdin, { datastoreFor: this.o.datastoreFor });
    const ms = Math.round(performance.now() - started);
    const who = `${req.env.CNI_COMMAND ?? "?"} ${req.env.CNI_CONTAINERID ?? ""}`.trim();
    this.o.log(
      out.exitCode === 0
        ? `CNI ${who}: done in ${ms} ms`
        : `CNI ${who}: failed in ${ms} ms: ${out.stdout.trim()}`,
    );
    return out;
  }
}

/** A malformed request's answer: CNI error 4 (invalid environment/arguments), as the plugin would say it. */
function refusal(msg: string): CniOutcome {
  return {
    exitCode: 1,
    stdout: JSON.stringify({ cniVersion: "1.0.0", code: 4, msg: `calico-node's CNI socket: ${msg}` }) + "\n",
  };
}
