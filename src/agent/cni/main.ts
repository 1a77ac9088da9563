// Entry point of the `calico` CNI executable: network config on stdin, CNI_* in the environment,
// result (or error) JSON on stdout, exit status 0 on success. Each call connects to etcd itself; the lab's
// namespace hosts use the agent's socket instead (shim/main.go, server.ts).
import { runCni } from "./run.ts";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const out = await runCni(process.env, await readStdin());
process.stdout.write(out.stdout);
if (out.exitCode !== 0 && process.env.CNI_DEBUG && out.debug) process.stderr.write(`${out.debug}\n`);
process.exitCode = out.exitCode;
// gRPC keeps handles open for a moment after close(); a CNI plugin exits as soon as it has answered.
process.exit();
