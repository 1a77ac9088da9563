// Round trip: parse(render(v)) equals v, for every preset and for randomized valid variants.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { IPv4, IPv4CidrRange, IPv4Prefix } from "ip-num";
import {
  LAB_DEFAULTS,
  LAB_NETWORK,
  MODES,
  PRESETS,
  mtusFor,
  parseManifest,
  renderManifest,
  resolveVariant,
  validateVariant,
  type CalicoVariant,
  type EncapMode,
} from "../../../src/manifest/index.ts";
import { inputSkip, readInput } from "./helpers.ts";

const TEMPLATES = { etcdv3: readInput("template-etcd"), kubernetes: readInput("template") };
const KDD_DEFAULTS: CalicoVariant = { ...LAB_DEFAULTS, datastoreType: "kubernetes", etcdEndpoints: [] };

function roundTrip(v: CalicoVariant, input = TEMPLATES[v.datastoreType]) {
  const rendered = renderManifest(input, v, { network: LAB_NETWORK });
  const parsed = parseManifest(rendered.text, { network: LAB_NETWORK });
  assert.deepEqual(parsed.problems, []);
  assert.deepEqual(parsed.variant, v);
  assert.deepEqual(rendered.variant, v);
}

describe("round trip for presets", () => {
  for (const preset of MODES) {
    for (const base of [LAB_DEFAULTS, KDD_DEFAULTS]) {
      it(`${preset} (${base.datastoreType})`, () => {
        const v = resolveVariant(base, PRESETS[preset]);
        roundTrip(v);
        roundTrip({ ...v, ...mtusFor(1500, v) });
      });
    }
  }

  it("the templates parse as the lab defaults", () => {
    assert.deepEqual(parseManifest(TEMPLATES.etcdv3).variant, LAB_DEFAULTS);
    assert.deepEqual(parseManifest(TEMPLATES.kubernetes).variant, KDD_DEFAULTS);
  });

  for (const input of ["calico-v3.9.0", "v3.13-shape", "v3.26-shape"]) {
    it(`presets with the lab pool on ${input}`, { skip: inputSkip(input) }, () => {
      for (const preset of MODES) {
        roundTrip(resolveVariant(KDD_DEFAULTS, PRESETS[preset]), readInput(input));
      }
    });
  }
});

// --- randomized valid variants ----------------------------------------------------------------------------

const underlayHost = fc.integer({ min: 1, max: 254 }).map((n) => `192.168.19.${n}`);
const UNDERLAY = IPv4CidrRange.fromCidr(LAB_NETWORK.underlayCidr);
const SERVICE = IPv4CidrRange.fromCidr(LAB_NETWORK.serviceCidr);

const pool = fc
  .record({
    blockSize: fc.integer({ min: 20, max: 32 }),
    prefixSlack: fc.integer({ min: 0, max: 12 }),
    base: fc.constantFrom(0x0a000000, 0xac100000, 0x64400000), // 10/8, 172.16/12, 100.64/10
    bits: fc.integer({ min: 0, max: 0x00ffffff }),
  })
  .map(({ blockSize, prefixSlack, base, bits }) => {
    const prefix = Math.max(12, blockSize - prefixSlack);
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    const net = ((base + bits) & mask) >>> 0;
    const cidr = `${IPv4.fromNumber(BigInt(net)).toString()}/${prefix}`;
    return { blockSize, cidr };
  })
  .filter(({ cidr }) => {
    const r = new IPv4CidrRange(
      IPv4.fromString(cidr.split("/")[0]!),
      new IPv4Prefix(BigInt(cidr.split("/")[1]!)),
    );
    return !r.isOverlapping(UNDERLAY) && !r.isOverlapping(SERVICE);
  });

const encap = fc.oneof(
  fc.record({
    ipipMode: fc.constantFrom<EncapMode>("Always", "CrossSubnet"),
    vxlanMode: fc.constant<EncapMode>("Never"),
    backend: fc.constant("bird" as const),
    felixIpipEnabled: fc.constantFrom(null, true),
    felixVxlanEnabled: fc.constantFrom(null, true, false),
  }),
  fc.record({
    ipipMode: fc.constant<EncapMode>("Never"),
    vxlanMode: fc.constantFrom<EncapMode>("Always", "CrossSubnet"),
    backend: fc.constantFrom("bird" as const, "vxlan" as const),
    felixIpipEnabled: fc.constantFrom(null, true, false),
    felixVxlanEnabled: fc.constantFrom(null, true),
  }),
  fc.record({
    ipipMode: fc.constant<EncapMode>("Never"),
    vxlanMode: fc.constant<EncapMode>("Never"),
    backend: fc.constant("bird" as const),
    felixIpipEnabled: fc.constantFrom(null, true, false),
    felixVxlanEnabled: fc.constantFrom(null, true, false),
  }),
);

const mtu = (max: number) => fc.oneof(fc.constant(0), fc.integer({ min: 576, max }));

const addressing = fc.oneof(
  fc.record({
    ip: fc.constant("autodetect"),
    autodetect: fc.oneof(
      fc.constant("first-found"),
      fc.constant("kubernetes-internal-ip"),
      underlayHost.map((h) => `can-reach=${h}`),
      fc.constantFrom(
        "interface=eth0",
        "interface=eth.*,ens[0-9]+",
        "skip-interface=docker.*,tunl.*",
        "cidr=192.168.19.0/24",
      ),
    ),
  }),
  fc.record({ ip: fc.oneof(fc.constant("none"), underlayHost), autodetect: fc.constant("first-found") }),
);

const datastore = fc.oneof(
  fc.record({
    datastoreType: fc.constant("kubernetes" as const),
    etcdEndpoints: fc.constant([] as string[]),
    etcdCaCertFile: fc.constant(""),
    etcdCertFile: fc.constant(""),
    etcdKeyFile: fc.constant(""),
  }),
  fc.boolean().chain((tls) =>
    fc.record({
      datastoreType: fc.constant("etcdv3" as const),
      etcdEndpoints: fc.array(
        underlayHost.map((h) => `${tls ? "https" : "http"}://${h}:2379`),
        { minLength: 1, maxLength: 3 },
      ),
      etcdCaCertFile: fc.constant(tls ? "/calico-secrets/etcd-ca" : ""),
      etcdCertFile: fc.constant(tls ? "/calico-secrets/etcd-cert" : ""),
      etcdKeyFile: fc.constant(tls ? "/calico-secrets/etcd-key" : ""),
    }),
  ),
);

const variant: fc.Arbitrary<CalicoVariant> = fc
  .record({
    pool,
    encap,
    addressing,
    datastore,
    natOutgoing: fc.boolean(),
    asNumber: fc.integer({ min: 1, max: 4294967295 }).filter((n) => n !== 23456),
    ipipMtu: mtu(1480),
    vxlanMtu: mtu(1450),
    vethSlack: fc.integer({ min: 0, max: 800 }),
    vethAuto: fc.boolean(),
  })
  .map((r) => {
    const limit = 1500 - (r.encap.vxlanMode !== "Never" ? 50 : r.encap.ipipMode !== "Never" ? 20 : 0);
    return {
      ...r.encap,
      ...r.addressing,
      ...r.datastore,
      podCidr: r.pool.cidr,
      blockSize: r.pool.blockSize,
      natOutgoing: r.natOutgoing,
      asNumber: r.asNumber,
      vethMtu: r.vethAuto ? 0 : limit - r.vethSlack,
      ipipMtu: r.ipipMtu,
      vxlanMtu: r.vxlanMtu,
    };
  });

describe("round trip for randomized valid variants (property)", () => {
  it("generated variants are valid", () => {
    fc.assert(
      fc.property(variant, (v) => {
        assert.deepEqual(validateVariant(v, LAB_NETWORK), []);
      }),
      { numRuns: 300 },
    );
  });

  it("parse(render(template, v)) equals v", () => {
    fc.assert(
      fc.property(variant, (v) => roundTrip(v)),
      { numRuns: 40 },
    );
  });

  it("rendering v onto a manifest already rendered with w reads back as v", () => {
    fc.assert(
      fc.property(variant, variant, (v, w) => {
        fc.pre(v.datastoreType === w.datastoreType);
        const direct = renderManifest(TEMPLATES[v.datastoreType], v).text;
        const via = renderManifest(renderManifest(TEMPLATES[w.datastoreType], w).text, v).text;
        assert.deepEqual(parseManifest(via).variant, v);
        assert.deepEqual(parseManifest(direct).variant, v);
      }),
      { numRuns: 20 },
    );
  });
});
