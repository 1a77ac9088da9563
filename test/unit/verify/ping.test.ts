import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { NEIGHBOUR_TABLE_FULL, pingFailure } from "../../../src/verify/ping.ts";

const LOSS = [
  "PING 10.244.1.2 (10.244.1.2) 56(84) bytes of data.",
  "",
  "--- 10.244.1.2 ping statistics ---",
  "1 packets transmitted, 0 received, 100% packet loss, time 0ms",
  "",
].join("\n");

describe("a failed ping, in one line", () => {
  test("the last line that says something: the statistics", () => {
    assert.equal(pingFailure(LOSS, 1), "1 packets transmitted, 0 received, 100% packet loss, time 0ms");
  });

  test("nothing printed: the exit code", () => {
    assert.equal(pingFailure("", 2), "ping exited 2");
  });

  test("ENOBUFS names the kernel's full neighbour table and the fix", () => {
    const out =
      "PING 10.244.1.2 (10.244.1.2) 56(84) bytes of data.\nping: sendmsg: No buffer space available\n";
    const seen = pingFailure(out, 1);
    assert.equal(seen, `ping: sendmsg: No buffer space available (${NEIGHBOUR_TABLE_FULL})`);
    assert.match(seen, /gc_thresh3/);
    assert.match(seen, /fewer hosts/);
  });

  test("ENOBUFS in an earlier attempt still explains a later plain loss", () => {
    assert.equal(
      pingFailure(LOSS, 1, true),
      `1 packets transmitted, 0 received, 100% packet loss, time 0ms (${NEIGHBOUR_TABLE_FULL})`,
    );
  });
});
