// The registry of verification checks, in the order they run: a new check is one module and one entry
// here. The categories, their titles, the Markdown's sections and the CLI summary's order all come from it.
import { bgpCheck } from "./bgp.ts";
import { captureCheck } from "./capture.ts";
import { daemonsCheck } from "./daemons.ts";
import { hostStateCheck } from "./host-state.ts";
import { kubernetesCheck } from "./kubernetes.ts";
import { natCheck } from "./nat.ts";
import { nodePodCheck } from "./node-pod.ts";
import { outsideCheck } from "./outside.ts";
import { podPodCheck } from "./pod-pod.ts";
import type { CheckResult } from "./result.ts";
import type { CategorySpec, CheckSpec } from "./spec.ts";
import { tcpCheck } from "./tcp.ts";
import { underlayCheck } from "./underlay.ts";

export const CHECKS = [
  underlayCheck,
  kubernetesCheck,
  daemonsCheck,
  hostStateCheck,
  bgpCheck,
  podPodCheck,
  nodePodCheck,
  tcpCheck,
  natCheck,
  outsideCheck,
  captureCheck,
] as const;

type CategoriesOf<S> = S extends CheckSpec<infer C> ? C : never;

/** Every category a check files results under. */
export type Category = CategoriesOf<(typeof CHECKS)[number]>;

/** A check's result in the lab report. */
export type Check = CheckResult<Category>;

/** Each category with its spec, in the order the checks run (the CLI summary's order). */
export const CATEGORIES: readonly ({ category: Category } & CategorySpec)[] = CHECKS.flatMap((c) =>
  Object.entries<CategorySpec>(c.categories).map(([category, spec]) => ({
    category: category as Category,
    ...spec,
  })),
);

/** The categories in the Markdown report's order of sections. */
export const MARKDOWN_SECTIONS = [...CATEGORIES].sort((a, b) => a.markdownOrder - b.markdownOrder);
