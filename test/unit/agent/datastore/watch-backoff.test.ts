// The etcd watch's reconnect backoff: short enough that an agent is ready again about a second after etcd is.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { watchBackoff } from "../../../../src/agent/datastore/etcd.ts";

describe("watchBackoff", () => {
  it("doubles from 100 ms and never waits more than 1 s", () => {
    const seen: number[] = [];
    // etcd3's watch manager takes the first delay from next() of the one it is given.
    let b = watchBackoff().next();
    for (let i = 0; i < 8; i++) {
      seen.push(b.duration);
      b = b.next();
    }
    assert.deepEqual(seen, [200, 400, 800, 1000, 1000, 1000, 1000, 1000]);
  });
});
