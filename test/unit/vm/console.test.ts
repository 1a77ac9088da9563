import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConsoleDemux } from "../../../src/vm/console.ts";

const NONCE = "0123abcd";

function demux() {
  const out: string[] = [];
  const events: string[] = [];
  const d = new ConsoleDemux(NONCE, {
    output: (t) => out.push(t),
    started: () => events.push("started"),
    exited: (c) => events.push(`exited ${c}`),
  });
  return { d, out, events };
}

describe("console demux", () => {
  it("keeps boot messages apart, streams the command's lines, stops at the exit marker", () => {
    const { d, out, events } = demux();
    d.push("[    4.43] some kernel line\r\n");
    d.push(`::vm-run:${NONCE}:start\nhello\nwor`);
    assert.deepEqual(
      out,
      ["hello\n", "wor"],
      "a partial line that cannot be the marker is passed on at once",
    );
    d.push(`ld\n::vm-run:${NONCE}:exit:7\n[ 9.1] reboot: Power down\n`);
    assert.equal(out.join(""), "hello\nworld\n");
    assert.deepEqual(events, ["started", "exited 7"]);
    assert.equal(d.exitCode, 7);
    assert.equal(d.phase, "done");
    assert.match(d.boot, /some kernel line/);
    assert.doesNotMatch(d.boot, /hello/);
  });

  it("finds the markers split across chunks at any point", () => {
    const text = `boot\n::vm-run:${NONCE}:start\nline 1\nline 2\n::vm-run:${NONCE}:exit:0\nafter\n`;
    for (let cut = 1; cut < text.length; cut++) {
      const { d, out } = demux();
      d.push(text.slice(0, cut));
      d.push(text.slice(cut));
      assert.equal(out.join(""), "line 1\nline 2\n", `cut at ${cut}`);
      assert.equal(d.exitCode, 0);
    }
  });

  it("separates a last line without newline from the marker that follows it", () => {
    const { d, out } = demux();
    d.push(`::vm-run:${NONCE}:start\nno-newline::vm-run:${NONCE}:exit:3\n`);
    assert.equal(out.join(""), "no-newline");
    assert.equal(d.exitCode, 3);
  });

  it("holds back a possible marker prefix until it is decided, then passes it on", () => {
    const { d, out } = demux();
    d.push(`::vm-run:${NONCE}:start\n::vm-`);
    assert.deepEqual(out, []);
    d.push("nope\n");
    assert.equal(out.join(""), "::vm-nope\n");
  });

  it("ignores markers with another nonce and marker-like lines without a valid code", () => {
    const { d, out } = demux();
    d.push(`::vm-run:${NONCE}:start\n::vm-run:ffff:exit:0\n::vm-run:${NONCE}:exit:x\n`);
    assert.equal(out.join(""), `::vm-run:ffff:exit:0\n::vm-run:${NONCE}:exit:x\n`);
    assert.equal(d.exitCode, undefined);
    assert.equal(d.phase, "running");
  });

  it("flushes a trailing partial line when the VM ends without a marker", () => {
    const { d, out } = demux();
    d.push(`::vm-run:${NONCE}:start\npartial ::`);
    d.end();
    assert.equal(out.join(""), "partial ::");
    assert.equal(d.exitCode, undefined);
  });
});
