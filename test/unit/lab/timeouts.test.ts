import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { scaledMs, timeoutScale } from "../../../src/lab/timeouts.ts";

describe("timeout scale", () => {
  it("is 1 unless CALICO_LAB_TIMEOUT_SCALE says otherwise", () => {
    assert.equal(timeoutScale({}), 1);
    assert.equal(scaledMs(60_000, { CALICO_LAB_TIMEOUT_SCALE: "5" }), 300_000);
    assert.equal(scaledMs(10_000, { CALICO_LAB_TIMEOUT_SCALE: "1.5" }), 15_000);
  });
  it("refuses what is not a sensible factor, naming the variable", () => {
    for (const bad of ["0.5", "fast", "1000"])
      assert.throws(
        () => timeoutScale({ CALICO_LAB_TIMEOUT_SCALE: bad }),
        /CALICO_LAB_TIMEOUT_SCALE=".*": use a number from 1 to 100/,
      );
  });
});
