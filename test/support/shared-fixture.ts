// Upstream fixtures (real Calico manifests) live in ../shared beside the checkout, not in the repository:
// a user's clone has no ../shared. A test that needs one skips with the reason there; under CI a missing
// fixture is an error, so CI never skips silently.
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { REPO_ROOT } from "./pulumi-env.ts";

export const SHARED_FIXTURES = join(REPO_ROOT, "..", "shared", "fixtures");

export interface SharedFixture {
  /** Absolute path of the fixture (it may not exist). */
  path: string;
  /** false when the fixture is here; otherwise why a test that reads it is skipped (node:test's `skip`). */
  skip: string | false;
}

/** CI=true (or 1, yes): what GitHub Actions, GitLab and .ci/run set. */
export function underCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(true|1|yes)$/i.test(env.CI ?? "");
}

/**
 * The upstream fixture at `rel` under ../shared/fixtures. When it is absent: a skip reason naming it, or,
 * under CI, an Error naming it (thrown where the test file looks it up, so the file fails loudly).
 */
export function sharedFixture(
  rel: string,
  opts: { root?: string; env?: NodeJS.ProcessEnv } = {},
): SharedFixture {
  const root = opts.root ?? SHARED_FIXTURES;
  const path = join(root, rel);
  if (existsSync(path)) return { path, skip: false };
  const shown = relative(process.cwd(), path) || path;
  if (underCi(opts.env))
    throw new Error(
      `CI=true and the upstream fixture ${shown} is missing (looked for ${path}): ` +
        `CI must run every test; put the shared fixtures beside the checkout (../shared/fixtures)`,
    );
  return { path, skip: `upstream fixture ${shown} is absent (no ../shared beside this checkout)` };
}
