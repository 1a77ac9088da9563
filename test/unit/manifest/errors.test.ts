// Bad variants: each is rejected with a message naming the field, the value and a fix (golden text), and
// every problem is reported at once.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertGolden } from "../../support/golden.ts";
import {
  LAB_NETWORK,
  ManifestError,
  PRESETS,
  parseManifest,
  renderManifest,
  type VariantSpec,
} from "../../../src/manifest/index.ts";
import { readInput } from "./helpers.ts";

/** Variant specs rendered onto templates/calico-etcd.yaml with the lab network. */
const BAD: Record<string, VariantSpec> = {
  "bad-cidr": { podCidr: "10.244.0/16" },
  "host-bits-set": { podCidr: "10.244.1.0/16" },
  "block-size-too-small": { blockSize: 19 },
  "block-size-too-large": { blockSize: 33 },
  "pool-smaller-than-block": { podCidr: "10.244.0.0/28" },
  "pool-overlaps-underlay": { podCidr: "192.168.0.0/16" },
  "pool-overlaps-service-cidr": { podCidr: "10.96.0.0/16" },
  "unknown-ipip-mode": { ipipMode: "Sometimes" as never },
  "ipip-mode-wrong-case": { ipipMode: "always" as never },
  "ipip-and-vxlan-both-always": { ipipMode: "Always", vxlanMode: "Always" },
  "unquoted-boolean-trap": { ipipMode: false as never },
  "bad-autodetect-method": { autodetect: "can_reach=192.168.19.165" },
  "autodetect-bad-destination": { autodetect: "can-reach=not a host!" },
  "invalid-interface-regex": { autodetect: "interface=*eth0" },
  "interface-regex-not-re2": { autodetect: "skip-interface=(?!eth0).*" },
  "autodetect-bad-cidr": { autodetect: "cidr=192.168.19.0/33" },
  "autodetect-ignored-with-fixed-ip": { ip: "192.168.19.165", autodetect: "interface=eth0" },
  "ip-outside-underlay": { ip: "10.0.0.5" },
  "veth-mtu-too-large": { vethMtu: 1500 },
  "ipip-mtu-too-large": { ipipMtu: 1490 },
  "vxlan-mtu-too-large": { ...PRESETS.vxlan, vethMtu: 1450, vxlanMtu: 1480 },
  "vxlan-veth-mtu-too-large": { ...PRESETS.vxlan, vethMtu: 1480 },
  "mtu-below-minimum": { vethMtu: 500 },
  "felix-ipip-disabled-with-ipip": { felixIpipEnabled: false },
  "felix-vxlan-disabled-with-vxlan": { ...PRESETS.vxlan, felixVxlanEnabled: false },
  "vxlan-backend-with-ipip": { backend: "vxlan" },
  "vxlan-backend-without-vxlan": { ...PRESETS.bgp, backend: "vxlan" },
  "as-number-zero": { asNumber: 0 },
  "as-trans": { asNumber: 23456 },
  "etcd-no-endpoints": { etcdEndpoints: [] },
  "etcd-endpoint-without-port": { etcdEndpoints: ["http://192.168.19.165"] },
  "etcd-cert-without-key": { etcdCertFile: "/calico-secrets/etcd-cert" },
  "etcd-relative-ca-path": { etcdEndpoints: ["https://192.168.19.165:2379"], etcdCaCertFile: "etcd-ca.pem" },
  "switch-datastore": { datastoreType: "kubernetes" },
  "many-problems-at-once": {
    podCidr: "10.244.1.0/16",
    blockSize: 40,
    ipipMode: "Off" as never,
    vethMtu: 9000,
  },
};

function rejection(spec: VariantSpec): ManifestError {
  try {
    renderManifest(readInput("template-etcd"), spec, { network: LAB_NETWORK, subject: "calico-etcd.yaml" });
  } catch (e) {
    if (e instanceof ManifestError) return e;
    throw e;
  }
  assert.fail("the variant was accepted");
}

describe("bad variants are rejected with field, value and fix", () => {
  for (const [name, spec] of Object.entries(BAD)) {
    it(name, async () => {
      const err = rejection(spec);
      assert.ok(err.problems.length > 0);
      for (const p of err.problems) {
        assert.ok(p.field && p.value && p.message && p.fix, JSON.stringify(p));
      }
      await assertGolden(`manifest/errors/${name}.txt`, err.message + "\n");
    });
  }

  it("all problems are listed in one error", () => {
    assert.ok(rejection(BAD["many-problems-at-once"]!).problems.length >= 4);
  });

  it("the lab's own variant is valid", () => {
    assert.doesNotThrow(() => renderManifest(readInput("template-etcd"), {}, { network: LAB_NETWORK }));
  });
});

describe("bad manifests are reported by the parser", () => {
  it("unquoted off in the manifest (the seed's sed-and-edit trap)", async () => {
    const parsed = parseManifest(readInput("unquoted-off"), { subject: "unquoted-off.yaml" });
    const trap = parsed.problems.find((p) => p.field === "CALICO_IPV4POOL_IPIP");
    assert.ok(trap);
    assert.match(trap.message, /boolean false/);
    assert.match(trap.fix, /quote it/);
    await assertGolden(
      "manifest/errors/manifest-unquoted-off.txt",
      new ManifestError("unquoted-off.yaml", parsed.problems).message + "\n",
    );
  });

  it("unquoted numbers in calico-config and a valueFrom to a missing key", async () => {
    const src = readInput("template")
      .replace('veth_mtu: "1440"', "veth_mtu: 1440")
      .replace("key: calico_backend\n            # Deployment", "key: backend\n            # Deployment");
    const parsed = parseManifest(src);
    await assertGolden(
      "manifest/errors/manifest-unquoted-number-missing-key.txt",
      new ManifestError("calico.yaml", parsed.problems).message + "\n",
    );
    assert.equal(parsed.problems.length, 2);
  });

  it("an empty ConfigMap value (`etcd_endpoints:` with nothing after it) is named, not printed as nothing", async () => {
    const src = readInput("template-etcd").replace(
      'etcd_endpoints: "http://192.168.19.165:2379"',
      "etcd_endpoints:",
    );
    const parsed = parseManifest(src);
    await assertGolden(
      "manifest/errors/manifest-empty-value.txt",
      new ManifestError("calico.yaml", parsed.problems).message + "\n",
    );
  });
});
