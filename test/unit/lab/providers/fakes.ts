// Recorded effects for the resource handlers' unit tests: each fake call is written to `calls` as one line
// (`name arg arg …`), so a test reads what a handler did, in order, without touching the machine.
import type { HostExec } from "../../../../src/effects/host-exec.ts";

export class Calls {
  readonly lines: string[] = [];
  note(name: string, ...args: unknown[]): void {
    this.lines.push([name, ...args.map((a) => (typeof a === "string" ? a : JSON.stringify(a)))].join(" "));
  }
  /** The recorded lines that start with `name`. */
  of(name: string): string[] {
    return this.lines.filter((l) => l === name || l.startsWith(`${name} `));
  }
}

/** A host with a kernel of its own whose commands are recorded, not run: `onHost` prefixes `on <where>`. */
export function fakeHost(where: string, calls: Calls): HostExec {
  return {
    where,
    local: false,
    onHost: (argv) => ["on", where, ...argv],
    adopt: (netns) => calls.note("adopt", where, netns),
    forget: (netns) => calls.note("forget", where, netns),
  };
}

export const boom = (what: string) => () => Promise.reject(new Error(`${what} failed`));
