// sharedFixture: a clone without ../shared skips with the reason; CI=true makes the absence an error.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { sharedFixture, underCi } from "../../support/shared-fixture.ts";

describe("sharedFixture", () => {
  const root = mkdtempSync(join(tmpdir(), "shared-fixture-"));
  writeFileSync(join(root, "here.yaml"), "kind: ConfigMap\n");
  after(() => rmSync(root, { recursive: true, force: true }));

  it("gives the path and no skip when the fixture is there, under CI too", () => {
    for (const env of [{}, { CI: "true" }]) {
      assert.deepEqual(sharedFixture("here.yaml", { root, env }), {
        path: join(root, "here.yaml"),
        skip: false,
      });
    }
  });

  it("gives a skip reason naming the fixture when it is absent", () => {
    const f = sharedFixture(join("calico", "gone.yaml"), { root, env: {} });
    assert.equal(f.path, join(root, "calico", "gone.yaml"));
    assert.match(
      String(f.skip),
      /^upstream fixture .*calico\/gone\.yaml is absent \(no \.\.\/shared beside this checkout\)$/,
    );
  });

  it("throws naming the fixture under CI=true", () => {
    assert.throws(
      () => sharedFixture(join("calico", "gone.yaml"), { root, env: { CI: "true" } }),
      /^Error: CI=true and the upstream fixture .*calico\/gone\.yaml is missing \(looked for .*\): CI must run every test/,
    );
  });

  it("reads CI the way CI services set it", () => {
    for (const v of ["true", "TRUE", "1", "yes"]) assert.equal(underCi({ CI: v }), true, v);
    for (const v of [undefined, "", "0", "false"]) assert.equal(underCi({ CI: v }), false, String(v));
  });
});
