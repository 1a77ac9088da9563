// `vm-exec HOST:PORT -- argv...`: runs argv inside a VM host through its guest exec channel, with this
// process's standard input and environment; prints the command's output and exits with its code (125
// when the channel itself fails, 126 when a signal ended the command or it could not start). The lab
// puts it in front of an argv as `ip netns exec` is for a namespace host:
//   ip netns exec <switch> node dist/bin/vm-exec.mjs 127.0.0.1:7001 -- ip route
import { guestRun } from "./client.ts";

const EXIT_CHANNEL = 125;

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return "";
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function main(): Promise<number> {
  const [target, sep, ...argv] = process.argv.slice(2);
  const m = /^([0-9.]+):(\d+)$/.exec(target ?? "");
  if (!m || sep !== "--" || argv.length === 0) {
    process.stderr.write("usage: vm-exec HOST:PORT -- argv...\n");
    return 2;
  }
  const r = await guestRun({ host: m[1]!, port: Number(m[2]) }, argv, {
    input: await readStdin(),
    fullEnv: process.env as Record<string, string>,
  });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  // -1: a signal ended it, or it could not start (tryRun's stderr says which).
  return r.exitCode < 0 ? 126 : r.exitCode;
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    process.stderr.write(`vm-exec: ${(e as Error).message}\n`);
    process.exitCode = EXIT_CHANNEL;
  },
);
