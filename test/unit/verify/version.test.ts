// The verification's code version covers what the checks run: the registry, every check module and what
// they import, the report, the handler and the datastore reader; and editing any of them changes it.
import assert from "node:assert/strict";
import { appendFileSync, cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { SRC_ROOT, checksVersion, verificationFiles } from "../../../src/verify/checks/version.ts";

const copy = mkdtempSync(join(tmpdir(), "checks-version-"));
cpSync(SRC_ROOT, copy, { recursive: true });
after(() => rmSync(copy, { recursive: true, force: true }));

describe("the verification's code version", () => {
  it("consists of every check module, the driver, the report, the handler and the datastore reader", () => {
    const files = verificationFiles();
    // Every module in checks/ but this one, which only reads them.
    const checks = readdirSync(join(SRC_ROOT, "verify", "checks"))
      .filter((f) => f !== "version.ts")
      .map((f) => join("verify", "checks", f));
    for (const f of [
      ...checks,
      "verify/lab.ts",
      "verify/report.ts",
      "verify/daemon-checks.ts",
      "verify/snapshot.ts",
      "lab/providers/verification-handler.ts",
    ])
      assert.ok(files.includes(f), `${f} is hashed`);
    assert.deepEqual(
      files.filter((f) => f.startsWith("agent/")),
      [],
    );
  });

  it("is the same for a copy of the tree elsewhere", () => {
    assert.equal(checksVersion(copy), checksVersion());
  });

  it("changes when a check file changes", () => {
    const before = checksVersion(copy);
    appendFileSync(join(copy, "verify", "checks", "tcp.ts"), "// edited\n");
    assert.notEqual(checksVersion(copy), before);
  });

  it("changes when a module a check imports changes, and not for code the checks do not run", () => {
    const before = checksVersion(copy);
    appendFileSync(join(copy, "agent", "debounce.ts"), "// edited\n");
    assert.equal(checksVersion(copy), before);
    appendFileSync(join(copy, "verify", "calico-rules.ts"), "// edited\n");
    assert.notEqual(checksVersion(copy), before);
  });
});
