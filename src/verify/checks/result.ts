// A verification check's result: what was expected, what was seen, in which category. Pure.

/** A check's verdict, before it is filed under a category. */
export interface CheckOutcome {
  name: string;
  ok: boolean;
  expected: string;
  seen: string;
  /** Why the check could not run here (it counts as passed, and the report says so). */
  skipped?: string;
}

/** A check's verdict in category `C` (a check module files its results under its own categories only). */
export interface CheckResult<C extends string = string> extends CheckOutcome {
  category: C;
  crossNode?: boolean;
}

export function check<C extends string>(
  category: C,
  name: string,
  ok: boolean,
  expected: string,
  seen: string,
  extra = {},
): CheckResult<C> {
  return { category, name, ok, expected, seen, ...extra };
}

export function skippedCheck<C extends string>(
  category: C,
  name: string,
  expected: string,
  reason: string,
  extra = {},
): CheckResult<C> {
  return { category, name, ok: true, expected, seen: `skipped: ${reason}`, skipped: reason, ...extra };
}
