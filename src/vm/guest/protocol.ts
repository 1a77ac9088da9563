// The guest exec channel of a VM host: the host asks the VM to run one argv (never a shell string) and
// gets back its output and exit code, as `ip netns exec` does for a namespace host. One request per TCP
// connection, each way one line of JSON. The connection is QEMU's user-mode NIC with one forwarded port,
// bound to the loopback of the lab's switch namespace (restrict=on: the guest reaches nothing through it).
// Pure: shapes and checks, no I/O.

export interface ExecRequest {
  argv: string[];
  /** The whole environment of the command (the guest shares the host's root filesystem, so PATH holds). */
  env?: Record<string, string>;
  /** Written to the command's standard input. */
  input?: string;
  timeoutMs?: number;
}

export interface ExecResponse {
  stdout: string;
  stderr: string;
  /** The command's exit code; -1 when a signal ended it or it could not start. */
  exitCode: number;
}

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

/** Parses the response line; throws when it is not one. */
export function parseResponse(line: string): ExecResponse {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error(`guest answered something that is not JSON: ${line.slice(0, 200)}`);
  }
  const r = v as Partial<ExecResponse>;
  if (typeof r?.stdout !== "string" || typeof r.stderr !== "string" || !Number.isInteger(r.exitCode))
    throw new Error(`guest answered an incomplete response: ${line.slice(0, 200)}`);
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode! };
}
