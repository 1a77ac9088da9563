import { test } from "node:test";
import assert from "node:assert/strict";
import { CLUSTER_GONE, kubectlOutcome } from "../../../src/kubernetes/cluster.ts";

const timeoutErr = {
  exitCode: 1,
  stderr:
    "Error from server (Timeout): Timeout: request did not complete within requested timeout - context deadline exceeded\n",
};
const refused = {
  exitCode: 1,
  stderr:
    "The connection to the server 192.168.19.165:6443 was refused - did you specify the right host or port?\n",
};

test("kubectlOutcome: success is done", () => {
  assert.equal(kubectlOutcome({ exitCode: 0, stderr: "" }, false), "ok");
});

test("kubectlOutcome: an API server timeout is asked again while there is time, then fails", () => {
  assert.equal(kubectlOutcome(timeoutErr, true), "again");
  assert.equal(kubectlOutcome(timeoutErr, false), "failed");
});

test("kubectlOutcome: a refused connection is transient, unless the caller counts it as the cluster gone", () => {
  assert.equal(kubectlOutcome(refused, true), "again");
  assert.equal(kubectlOutcome(refused, true, CLUSTER_GONE), "gone");
  assert.equal(kubectlOutcome(refused, false, CLUSTER_GONE), "gone");
});

test("kubectlOutcome: a connection lost or reset mid-answer is asked again", () => {
  const lost = {
    exitCode: 1,
    stderr:
      'E1204 02:17:35.590345   22200 request.go:1196] "Unexpected error when reading response body" err="http2: client connection lost"\n' +
      "error: unexpected error when reading response body. Please retry. Original error: http2: client connection lost\n",
  };
  assert.equal(kubectlOutcome(lost, true), "again");
  assert.equal(kubectlOutcome(lost, false), "failed");
  const reset = {
    exitCode: 1,
    stderr: "read tcp 192.168.19.200:41234->192.168.19.165:6443: read: connection reset by peer\n",
  };
  assert.equal(kubectlOutcome(reset, true), "again");
});

test("kubectlOutcome: an error that is neither transient nor the cluster gone fails at once", () => {
  const forbidden = { exitCode: 1, stderr: 'Error from server (Forbidden): pods "echo" is forbidden\n' };
  assert.equal(kubectlOutcome(forbidden, true, CLUSTER_GONE), "failed");
  const waited = { exitCode: 1, stderr: "error: timed out waiting for the condition on pods/echo\n" };
  assert.equal(kubectlOutcome(waited, true), "failed");
});
