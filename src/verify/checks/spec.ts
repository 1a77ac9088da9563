// The shape of a check in the registry (index.ts): the categories its results are filed under, each with
// its title in the reports, and how it runs. Pure.
import type { CheckContext } from "./context.ts";
import type { CheckResult } from "./result.ts";

export interface CategorySpec {
  /** The heading of the category's section in the Markdown report. */
  title: string;
  /**
   * Where that section stands in the Markdown report (lowest first). The checks run, the HTML lists them and
   * the CLI summary counts them in the registry's order; the Markdown puts the packet checks first.
   */
  markdownOrder: number;
}

export interface CheckSpec<C extends string> {
  /** Its categories, in the order its results come (most checks have one). */
  categories: { readonly [K in C]: CategorySpec };
  /** The checks' results, each in one of its categories; empty when nothing applies to this lab. */
  run(ctx: CheckContext): Promise<CheckResult<NoInfer<C>>[]>;
}

/**
 * A check for the registry: `C` is inferred from the categories' keys alone (NoInfer on `run`), so a result
 * in any other category fails tsc at the result, not at the categories.
 */
export function defineCheck<C extends string>(spec: CheckSpec<C>): CheckSpec<C> {
  return spec;
}
