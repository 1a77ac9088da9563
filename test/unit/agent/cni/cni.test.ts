import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  buildResult,
  CniError,
  errorJson,
  netnsNameFromPath,
  parseCniArgs,
  parseEnv,
  parseNetConf,
  versionResult,
} from "../../../../src/agent/cni/args.ts";
import { podHandleId, vethName } from "../../../../src/agent/cni/naming.ts";

const conf = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    cniVersion: "1.0.0",
    name: "k8s-pod-network",
    type: "calico",
    etcd_endpoints: "http://10.0.0.1:2379",
    ipam: { type: "calico-ipam" },
    ...over,
  });

const env = (over: Record<string, string> = {}) => ({
  CNI_COMMAND: "ADD",
  CNI_CONTAINERID: "abc123",
  CNI_NETNS: "/run/netns/lab-pod-a",
  CNI_IFNAME: "eth0",
  CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=pod-a",
  ...over,
});

function code(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CniError, String(e));
    return e.code;
  }
  assert.fail("did not throw");
}

describe("veth names (sha1 vectors)", () => {
  for (const [ns, pod, name] of [
    ["default", "pod1", "calice0906292e2"],
    ["default", "echo-a", "calib5be3306a32"],
    ["kube-system", "coredns-5d78c9869d-abcde", "cali4d5f75c480c"],
    ["lab", "b", "cali52055a13d70"],
  ] as const) {
    test(`${ns}/${pod} → ${name}`, () => {
      assert.equal(vethName(ns, pod), name);
      assert.equal(name.length, 15);
    });
  }
  test("handle id", () => assert.equal(podHandleId("abc"), "k8s-pod-network.abc"));
});

describe("CNI arguments", () => {
  test("environment", () => {
    const e = parseEnv(env());
    assert.equal(e.command, "ADD");
    assert.deepEqual(e.args, { IgnoreUnknown: "1", K8S_POD_NAMESPACE: "default", K8S_POD_NAME: "pod-a" });
    assert.equal(parseEnv(env({ CNI_COMMAND: "DEL", CNI_NETNS: "" })).netns, "");
    assert.equal(parseEnv({ CNI_COMMAND: "VERSION" }).command, "VERSION");
  });
  test("bad environment → code 4", () => {
    assert.equal(
      code(() => parseEnv(env({ CNI_COMMAND: "PUT" }))),
      4,
    );
    assert.equal(
      code(() => parseEnv(env({ CNI_CONTAINERID: "" }))),
      4,
    );
    assert.equal(
      code(() => parseEnv(env({ CNI_CONTAINERID: "a;rm -rf" }))),
      4,
    );
    assert.equal(
      code(() => parseEnv(env({ CNI_IFNAME: "eth0/../x" }))),
      4,
    );
    assert.equal(
      code(() => parseEnv(env({ CNI_NETNS: "/proc/1/ns/net" }))),
      4,
    );
    assert.equal(
      code(() => parseEnv(env({ CNI_NETNS: "" }))),
      4,
    );
    assert.equal(
      code(() => parseCniArgs("K8S_POD_NAME")),
      4,
    );
  });
  test("netns path", () => {
    assert.equal(netnsNameFromPath("/var/run/netns/lab-a"), "lab-a");
    assert.equal(
      code(() => netnsNameFromPath("/run/netns/../x")),
      4,
    );
  });
  test("network config", () => {
    const c = parseNetConf(conf({ nodename: "node1", mtu: 1440 }));
    assert.equal(c.nodename, "node1");
    assert.equal(c.mtu, 1440);
    assert.equal(parseNetConf(conf({ cniVersion: "0.3.1" })).cniVersion, "0.3.1");
    assert.equal(
      code(() => parseNetConf("{")),
      6,
    );
    assert.equal(
      code(() => parseNetConf("[]")),
      6,
    );
    assert.equal(
      code(() => parseNetConf(conf({ cniVersion: "0.2.0" }))),
      1,
    );
    assert.equal(
      code(() => parseNetConf(conf({ etcd_endpoints: "" }))),
      7,
    );
    assert.equal(
      code(() => parseNetConf(conf({ ipam: { type: "host-local" } }))),
      7,
    );
    assert.equal(
      code(() => parseNetConf(conf({ mtu: 70000 }))),
      7,
    );
  });
  test("optional settings written empty are unset, as install-cni writes them without etcd TLS", () => {
    const c = parseNetConf(
      conf({ etcd_ca_cert_file: "", etcd_cert_file: "", etcd_key_file: "", nodename: "", log_level: "" }),
    );
    assert.equal(c.etcd_ca_cert_file, undefined);
    assert.equal(c.etcd_cert_file, undefined);
    assert.equal(c.etcd_key_file, undefined);
    assert.equal(c.nodename, undefined);
    assert.equal(c.log_level, undefined);
    assert.equal(
      parseNetConf(conf({ etcd_ca_cert_file: "/etc/calico/ca.pem" })).etcd_ca_cert_file,
      "/etc/calico/ca.pem",
    );
    assert.equal(
      code(() => parseNetConf(conf({ etcd_ca_cert_file: 7 }))),
      7,
    );
  });
  test("results per version", () => {
    const r = {
      hostIf: "calia",
      podIf: "eth0",
      podMac: "02:00:00:00:00:01",
      sandbox: "/run/netns/p",
      ips: ["10.244.1.2"],
    };
    assert.deepEqual(buildResult("0.3.1", r).ips, [{ version: "4", address: "10.244.1.2/32", interface: 1 }]);
    assert.deepEqual(buildResult("1.0.0", r).ips, [{ address: "10.244.1.2/32", interface: 1 }]);
    assert.deepEqual(versionResult().supportedVersions, ["0.3.0", "0.3.1", "0.4.0", "1.0.0"]);
  });
  test("error JSON", () => {
    assert.deepEqual(errorJson(new CniError(7, "bad", "why"), "0.3.1"), {
      cniVersion: "0.3.1",
      code: 7,
      msg: "bad",
      details: "why",
    });
    assert.deepEqual(errorJson(new Error("boom")), { cniVersion: "1.0.0", code: 999, msg: "boom" });
  });
});
