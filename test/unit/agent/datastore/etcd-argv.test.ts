import { test } from "node:test";
import assert from "node:assert/strict";
import { etcdArgv } from "../../../../src/agent/datastore/etcd-server.ts";

const base = { name: "calico-lab", dataDir: "/tmp/d", address: "192.168.19.165" };
const flag = (argv: string[], name: string) => {
  const i = argv.indexOf(name);
  return i < 0 ? undefined : argv[i + 1];
};

test("etcdArgv: the one member elects itself fast by default (10 ms heartbeats, 100 ms election)", () => {
  const argv = etcdArgv(base);
  assert.equal(flag(argv, "--heartbeat-interval"), "10");
  assert.equal(flag(argv, "--election-timeout"), "100");
});

test("etcdArgv: an emulated host keeps etcd's own raft clock (no timing flags: 100 ms / 1 s)", () => {
  const argv = etcdArgv({ ...base, raftClock: "etcd" });
  assert.equal(flag(argv, "--heartbeat-interval"), undefined);
  assert.equal(flag(argv, "--election-timeout"), undefined);
  assert.equal(flag(argv, "--listen-client-urls"), "http://192.168.19.165:2379", "the rest is unchanged");
});
