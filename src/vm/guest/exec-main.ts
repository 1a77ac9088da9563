// `vm-exec HOST:PORT -- argv...`: runs argv inside a VM host through its guest exec channel, with this
// process's standard input and environment, streaming its output; exits with its code (125 when the
// channel itself fails). SIGTERM, SIGINT and SIGHUP are passed on to the command, and vm-exec waits for
// it to end: a daemon run through vm-exec stops as a local one does. The lab puts it in front of an argv
// as `ip netns exec` is for a namespace host:
//   ip netns exec <switch> node dist/bin/vm-exec.mjs 127.0.0.1:7001 -- ip route
import { guestCall } from "./client.ts";

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
  const call = guestCall(
    { host: m[1]!, port: Number(m[2]) },
    { argv, env: process.env as Record<string, string>, input: await readStdin() },
    (t) => process.stdout.write(t),
    (t) => process.stderr.write(t),
  );
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(sig, () => call.signal(sig));
  return call.exit;
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    process.stderr.write(`vm-exec: ${(e as Error).message}\n`);
    process.exitCode = EXIT_CHANNEL;
  },
);
