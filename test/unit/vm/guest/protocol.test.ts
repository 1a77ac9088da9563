import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseMessage, parseRequest, parseSignal } from "../../../../src/vm/guest/protocol.ts";

describe("the guest exec channel's messages", () => {
  it("takes a request with an argv and, optionally, environment, input and timeout", () => {
    assert.deepEqual(parseRequest('{"argv":["ip","-j","link"]}'), { argv: ["ip", "-j", "link"] });
    assert.deepEqual(
      parseRequest(JSON.stringify({ argv: ["cat"], env: { A: "1" }, input: "x", timeoutMs: 500 })),
      { argv: ["cat"], env: { A: "1" }, input: "x", timeoutMs: 500 },
    );
  });

  it("refuses a request that is not one, saying what is wrong", () => {
    const cases: [string, RegExp][] = [
      ["ip link", /not JSON/],
      ["null", /not an object/],
      ['{"argv":[]}', /argv must be a non-empty list of strings/],
      ['{"argv":"ip link"}', /argv must be a non-empty list of strings/],
      ['{"argv":["ip",1]}', /argv must be a non-empty list of strings/],
      ['{"argv":["x"],"env":{"A":1}}', /env must map names to strings/],
      ['{"argv":["x"],"input":3}', /input must be a string/],
      ['{"argv":["x"],"timeoutMs":-1}', /timeoutMs must be a positive integer/],
    ];
    for (const [line, msg] of cases) assert.throws(() => parseRequest(line), msg, line);
  });

  it("takes signals after the request, and only those it delivers", () => {
    assert.equal(parseSignal('{"signal":"SIGTERM"}'), "SIGTERM");
    assert.throws(() => parseSignal('{"signal":"SIGSTOP"}'), /not a signal the channel delivers/);
    assert.throws(() => parseSignal("TERM"), /not JSON/);
  });

  it("reads the guest's messages (output as it comes, then the exit code) and refuses foreign ones", () => {
    assert.deepEqual(parseMessage('{"out":"a\\n"}'), { out: "a\n" });
    assert.deepEqual(parseMessage('{"err":"b"}'), { err: "b" });
    assert.deepEqual(parseMessage('{"exit":3}'), { exit: 3 });
    assert.throws(() => parseMessage("SSH-2.0-OpenSSH"), /not JSON: SSH-2\.0/);
    assert.throws(() => parseMessage('{"exit":"3"}'), /not a message/);
  });
});
