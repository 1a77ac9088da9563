// The parser: manifest → the agent's typed settings, with notes for env that only seeds the default pool.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ManifestError,
  PRESETS,
  formatAutodetectMethod,
  parseAutodetectMethod,
  parseManifest,
  readAgentSettings,
  renderManifest,
} from "../../../src/manifest/index.ts";
import { UPSTREAM, readInput } from "./helpers.ts";

describe("parseManifest", () => {
  it("reads the etcd template as the agent's settings", () => {
    assert.deepEqual(readAgentSettings(readInput("template-etcd")), {
      backend: "bird",
      datastore: { type: "etcdv3", endpoints: ["http://192.168.19.165:2379"], tls: null },
      pool: {
        cidr: "10.244.0.0/16",
        blockSize: 26,
        ipipMode: "Always",
        vxlanMode: "Never",
        natOutgoing: true,
      },
      felix: { ipipEnabled: null, vxlanEnabled: null, ipipMtu: 1440, vxlanMtu: 1410 },
      vethMtu: 1440,
      node: { ip: "autodetect", autodetection: { kind: "first-found" }, asNumber: 64512 },
      encapsulation: "ipip",
    });
  });

  it("reports env entries that only seed the default pool", { skip: UPSTREAM.skip }, () => {
    const notes = parseManifest(readInput("calico-v3.9.0")).notes;
    const pool = notes.filter((n) => /default IPv4 pool/.test(n.message)).map((n) => n.field);
    assert.deepEqual(pool.sort(), ["CALICO_IPV4POOL_CIDR", "CALICO_IPV4POOL_IPIP"]);
  });

  it("says where the pool comes from when CALICO_IPV4POOL_CIDR is commented out", () => {
    const p = parseManifest(readInput("v3.13-shape"));
    assert.equal(p.variant.podCidr, "192.168.0.0/16");
    assert.ok(p.notes.some((n) => n.field === "CALICO_IPV4POOL_CIDR" && /commented out/.test(n.message)));
  });

  it("reads bgp and vxlan renders as their encapsulation", () => {
    const bgp = readAgentSettings(renderManifest(readInput("template"), PRESETS.bgp).text);
    assert.equal(bgp.encapsulation, "none");
    assert.equal(bgp.felix.ipipEnabled, false);
    const vxlan = readAgentSettings(renderManifest(readInput("template"), PRESETS.vxlan).text);
    assert.deepEqual(
      [vxlan.encapsulation, vxlan.backend, vxlan.felix.vxlanEnabled],
      ["vxlan", "vxlan", true],
    );
  });

  it("accepts the legacy off, quoted, with a note", { skip: UPSTREAM.skip }, () => {
    const src = readInput("calico-v3.9.0").replace('value: "Always"', 'value: "off"');
    const p = parseManifest(src);
    assert.equal(p.variant.ipipMode, "Never");
    assert.deepEqual(p.problems, []);
    assert.ok(p.notes.some((n) => /legacy alias/.test(n.message)));
  });

  it("readAgentSettings throws every problem at once", () => {
    assert.throws(() => readAgentSettings(readInput("unquoted-off")), ManifestError);
  });

  it("reads a typed autodetection method", () => {
    const text = renderManifest(readInput("template"), { autodetect: "interface=eth0,ens.*" }).text;
    assert.deepEqual(readAgentSettings(text).node.autodetection, {
      kind: "interface",
      patterns: ["eth0", "ens.*"],
    });
  });
});

describe("IP_AUTODETECTION_METHOD", () => {
  const ok = [
    ["first-found", { kind: "first-found" }],
    ["", { kind: "first-found" }],
    ["can-reach=192.168.19.165", { kind: "can-reach", destination: "192.168.19.165" }],
    ["can-reach=www.example.org", { kind: "can-reach", destination: "www.example.org" }],
    ["interface=eth0", { kind: "interface", patterns: ["eth0"] }],
    ["skip-interface=docker.*,tunl.*", { kind: "skip-interface", patterns: ["docker.*", "tunl.*"] }],
    ["cidr=192.168.19.0/24,10.0.0.0/8", { kind: "cidr", cidrs: ["192.168.19.0/24", "10.0.0.0/8"] }],
    ["kubernetes-internal-ip", { kind: "kubernetes-internal-ip" }],
  ] as const;
  for (const [text, method] of ok) {
    it(`parses ${JSON.stringify(text)}`, () => {
      const r = parseAutodetectMethod(text);
      assert.deepEqual(r, { ok: true, method });
      if (text !== "") assert.equal(formatAutodetectMethod(r.ok ? r.method : { kind: "first-found" }), text);
    });
  }
  for (const bad of [
    "firstfound",
    "can-reach=",
    "interface=eth[0",
    "interface=a,,b",
    "first-found=eth0",
    "cidr=10.0.0.0",
  ]) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      const r = parseAutodetectMethod(bad);
      assert.equal(r.ok, false);
      if (!r.ok) for (const p of r.problems) assert.ok(p.fix.length > 0);
    });
  }
});
