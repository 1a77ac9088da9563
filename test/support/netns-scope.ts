// Every test run gets its own namespace prefix, and removes what it made, on failure too.
import { randomBytes } from "node:crypto";
import { deleteNetns, listNetns } from "../../src/effects/netns.ts";

/** A short unique prefix such as "t3f9a": letters and digits, so names stay within kernel limits. */
export function runPrefix(tag = "t"): string {
  return `${tag}${randomBytes(2).toString("hex")}`;
}

/** Deletes every namespace whose name starts with `${prefix}-` (killing processes inside). */
export async function removeNetnsWithPrefix(prefix: string): Promise<void> {
  for (const ns of await listNetns()) {
    if (ns.startsWith(`${prefix}-`)) await deleteNetns(ns);
  }
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}
