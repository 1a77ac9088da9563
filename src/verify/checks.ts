// A verification check: what was expected, what was seen, in which category. Pure.
import type { CheckOutcome } from "./underlay.ts";

export type Category =
  | "underlay"
  | "daemons"
  | "pod-pod"
  | "node-pod"
  | "tcp"
  | "nat"
  | "outside"
  | "routes"
  | "devices"
  | "capture"
  | "bgp";

export interface Check extends CheckOutcome {
  category: Category;
  crossNode?: boolean;
}

export function check(
  category: Category,
  name: string,
  ok: boolean,
  expected: string,
  seen: string,
  extra = {},
): Check {
  return { category, name, ok, expected, seen, ...extra };
}

export function skippedCheck(
  category: Category,
  name: string,
  expected: string,
  reason: string,
  extra = {},
): Check {
  return { category, name, ok: true, expected, seen: `skipped: ${reason}`, skipped: reason, ...extra };
}
