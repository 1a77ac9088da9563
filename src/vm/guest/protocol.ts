// The guest exec channel of a VM host: the host asks the VM to run one argv (never a shell string), as
// `ip netns exec` does for a namespace host. One TCP connection per command, JSON lines both ways:
//   host → guest: the request; later, signals to deliver ({"signal":"SIGTERM"})
//   guest → host: output as it comes ({"out":…} / {"err":…}), then {"exit":<code>}
// The command lives as long as the connection: when the host side goes away, the guest stops it (TERM,
// then KILL). So a local `vm-exec` process stands for the guest command: the lab's daemons run through
// it with their pid files, logs and signals as they are for a namespace host.
// The connection is QEMU's user-mode NIC with one forwarded port, bound to the loopback of the lab's
// switch namespace (restrict=on: the guest reaches nothing through it). Pure: shapes and checks, no I/O.

export interface ExecRequest {
  argv: string[];
  /** The command's environment, over the guest's own (the guest shares the host's root filesystem). */
  env?: Record<string, string>;
  /** Written to the command's standard input. */
  input?: string;
  timeoutMs?: number;
}

/** A message from the guest: a chunk of output, or the exit code (128+N after signal N). */
export type GuestMessage = { out: string } | { err: string } | { exit: number };

/** Signals the host may ask the guest to deliver to the command's process group. */
export const SIGNALS = ["SIGTERM", "SIGINT", "SIGKILL", "SIGHUP"] as const;
export type GuestSignal = (typeof SIGNALS)[number];

/** Exit code when the command could not start (as a shell says for a program not found). */
export const EXIT_NOT_STARTED = 127;

/** The guest's address on the management NIC and the port it serves (QEMU's user-mode defaults). */
export const GUEST_MGMT_ADDRESS = "10.0.2.15";
export const GUEST_MGMT_CIDR = `${GUEST_MGMT_ADDRESS}/24`;
export const GUEST_EXEC_PORT = 7000;
/** The management NIC's MAC: how the guest tells it from the lab's NICs. */
export const MGMT_MAC = "52:54:00:c0:ff:ee";

const isStringRecord = (v: unknown): v is Record<string, string> =>
  typeof v === "object" &&
  v !== null &&
  !Array.isArray(v) &&
  Object.values(v).every((x) => typeof x === "string");

/** Parses one request line; throws with what is wrong. */
export function parseRequest(line: string): ExecRequest {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error("request is not JSON");
  }
  if (typeof v !== "object" || v === null) throw new Error("request is not an object");
  const r = v as Record<string, unknown>;
  if (!Array.isArray(r.argv) || r.argv.length === 0 || !r.argv.every((a) => typeof a === "string"))
    throw new Error("argv must be a non-empty list of strings");
  if (r.env !== undefined && !isStringRecord(r.env)) throw new Error("env must map names to strings");
  if (r.input !== undefined && typeof r.input !== "string") throw new Error("input must be a string");
  if (r.timeoutMs !== undefined && (!Number.isInteger(r.timeoutMs) || (r.timeoutMs as number) <= 0))
    throw new Error("timeoutMs must be a positive integer");
  return {
    argv: r.argv as string[],
    ...(r.env !== undefined ? { env: r.env as Record<string, string> } : {}),
    ...(r.input !== undefined ? { input: r.input as string } : {}),
    ...(r.timeoutMs !== undefined ? { timeoutMs: r.timeoutMs as number } : {}),
  };
}

/** Parses a later line from the host: a signal to deliver; throws for anything else. */
export function parseSignal(line: string): GuestSignal {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error("message is not JSON");
  }
  const sig = (v as { signal?: unknown } | null)?.signal;
  if (!(SIGNALS as readonly unknown[]).includes(sig))
    throw new Error(`not a signal the channel delivers: ${line}`);
  return sig as GuestSignal;
}

/** Parses a line from the guest; throws when it is not a message of the channel. */
export function parseMessage(line: string): GuestMessage {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error(`guest answered something that is not JSON: ${line.slice(0, 200)}`);
  }
  const m = v as Record<string, unknown> | null;
  if (typeof m?.out === "string") return { out: m.out };
  if (typeof m?.err === "string") return { err: m.err };
  if (Number.isInteger(m?.exit)) return { exit: m!.exit as number };
  throw new Error(`guest answered something that is not a message: ${line.slice(0, 200)}`);
}
