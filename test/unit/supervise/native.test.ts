// The Go supervisor (src/supervise/native, dist/bin/supervise) against the TypeScript that states its
// rules: each command line args.ts refuses, the executable refuses with the same words (exit 2, before it
// writes or starts anything); and the supervisor of a service is told by its command line, the Go one's
// and a Node.js one's of before (labs started then still run those). Its rules and files are tested in Go
// (main_test.go, run by scripts/test) and with real processes in test/integration/supervise/.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { REPO_ROOT } from "../../../src/build/bundles.ts";
import { ensureGoProgram, goProgramPath } from "../../../src/build/go-programs.ts";
import { parseSuperviseArgs } from "../../../src/supervise/args.ts";
import { isSupervisorArgv } from "../../../src/supervise/control.ts";

describe("the Go supervisor", () => {
  let bin = "";
  before(async () => {
    bin = await ensureGoProgram("supervise");
  });

  it("refuses the command lines args.ts refuses, in the same words", () => {
    const dir = mkdtempSync(join(tmpdir(), "sv-args-"));
    try {
      const cases = [
        [],
        ["--name", "x", "--run-dir", dir, "--"],
        ["--name", "x", "--run-dir", dir, "sh"],
        ["--name", "--", "sh"],
        ["name", "x", "--", "sh"],
        ["--name", "x", "--run-dir", dir, "--bogus", "1", "--", "sh"],
        ["--name", "", "--run-dir", dir, "--", "sh"],
        ["--run-dir", dir, "--", "sh"],
        ["--name", "x", "--run-dir", dir, "--grace-ms", "-1", "--", "sh"],
        ["--name", "x", "--run-dir", dir, "--grace-ms", "0.5", "--", "sh"],
        ["--name", "x", "--run-dir", dir, "--grace-ms", "1e400", "--", "sh"],
        ["--name", "x", "--run-dir", dir, "--final-exit-codes", "3,256", "--", "sh"],
        ["--name", "x", "--run-dir", dir, "--final-exit-codes", "3,-1", "--", "sh"],
        ["--name", "x", "--run-dir", dir, "--final-exit-codes", "0x", "--", "sh"],
      ];
      for (const argv of cases) {
        const want = (() => {
          try {
            parseSuperviseArgs(argv);
            return "accepted";
          } catch (e) {
            return `supervise: ${(e as Error).message}\n`;
          }
        })();
        const r = spawnSync(bin, argv, { encoding: "utf8" });
        assert.equal(r.stderr, want, JSON.stringify(argv));
        assert.equal(r.status, 2, JSON.stringify(argv));
      }
      assert.deepEqual(readdirSync(dir), [], "a refused command line writes nothing");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is static (it runs in a VM that shares the project folder)", () => {
    const r = spawnSync("file", ["-b", goProgramPath("supervise")], { encoding: "utf8" });
    if (r.status !== 0) return; // no file(1) here
    assert.match(r.stdout, /statically linked/);
  });

  it("a supervisor is told by its command line: the Go one, and a Node.js one of before", () => {
    const args = ["--name", "agent", "--run-dir", "/lab/h1", "--grace-ms", "3000", "--", "ip", "netns", "exec", "h1"]; // prettier-ignore
    const legacy = join(REPO_ROOT, "dist", "bin", "supervise.mjs");
    assert.ok(isSupervisorArgv([goProgramPath("supervise"), ...args], "/lab/h1", "agent"));
    assert.ok(isSupervisorArgv(["/usr/bin/node", legacy, ...args], "/lab/h1", "agent"));
    assert.ok(
      !isSupervisorArgv([goProgramPath("supervise"), ...args], "/lab/h2", "agent"),
      "another run dir",
    );
    assert.ok(!isSupervisorArgv([goProgramPath("supervise"), ...args], "/lab/h1", "etcd"), "another service");
    assert.ok(
      !isSupervisorArgv(["/usr/bin/node", "/lab/agent.mjs", ...args], "/lab/h1", "agent"),
      "not a supervisor",
    );
    assert.ok(!isSupervisorArgv([], "/lab/h1", "agent"), "a process gone");
  });
});
