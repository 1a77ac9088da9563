import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseSelector, SelectorError } from "../../../../src/agent/confd/selector.ts";

describe("Calico selectors", () => {
  const rr = { "route-reflector": "true", zone: "a" };
  const plain = { zone: "b" };
  const cases: [string, Record<string, string>, boolean][] = [
    ["all()", plain, true],
    ["", plain, true],
    ["has(route-reflector)", rr, true],
    ["has(route-reflector)", plain, false],
    ["!has(route-reflector)", plain, true],
    ["!has(route-reflector)", rr, false],
    ["zone == 'a'", rr, true],
    ['zone == "a"', plain, false],
    ["zone != 'a'", plain, true],
    ["zone in {'a', 'c'}", rr, true],
    ["zone in {'a', 'c'}", plain, false],
    ["zone not in {'a'}", plain, true],
    ["missing not in {'a'}", plain, true],
    ["has(route-reflector) && zone == 'a'", rr, true],
    ["has(route-reflector) && zone == 'b'", rr, false],
    ["has(route-reflector) || zone == 'b'", plain, true],
    ["!(has(route-reflector) || zone == 'b')", plain, false],
  ];
  for (const [sel, labels, want] of cases) {
    it(`${JSON.stringify(sel)} on ${JSON.stringify(labels)} is ${want}`, () => {
      assert.equal(parseSelector(sel)(labels), want);
    });
  }
  for (const bad of ["has(", "zone = 'a'", "zone == a", "zone == 'a' &&", "'a'", "zone in {'a'"]) {
    it(`rejects ${JSON.stringify(bad)} with its position`, () => {
      assert.throws(() => parseSelector(bad), SelectorError);
    });
  }
});
