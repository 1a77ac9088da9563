// Golden tests for the renderer: every preset on our templates, upstream v3.9.0 and the v3.13+/v3.26 shapes;
// each also asserts that the line diff against the input touches only the intended lines.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertGolden } from "../../support/golden.ts";
import { ManifestError, MODES, PRESETS, parseManifest, renderManifest } from "../../../src/manifest/index.ts";
import { UPSTREAM, changedTexts, formatDiff, inputSkip, lineDiff, readInput } from "./helpers.ts";

const INPUTS = [
  "template",
  "template-etcd",
  "calico-v3.9.0",
  "v3.13-shape",
  "v3.26-shape",
  "head-shape",
] as const;

function goldenText(
  input: string,
  output: string,
  changes: string[],
  notes: { field: string; message: string }[],
) {
  return [
    "# line diff against the input",
    formatDiff(lineDiff(input, output)).trimEnd(),
    "# changes",
    ...changes,
    "# notes",
    ...notes.map((n) => `${n.field}: ${n.message}`),
    "",
  ].join("\n");
}

describe("presets render on every input, touching only their entries", () => {
  for (const input of INPUTS) {
    for (const preset of MODES) {
      it(`${preset} on ${input}`, { skip: inputSkip(input) }, async () => {
        const src = readInput(input);
        const r = renderManifest(src, PRESETS[preset]);
        await assertGolden(
          `manifest/render/${input}/${preset}.txt`,
          goldenText(src, r.text, r.changes, r.notes),
        );
        // The output reads back as the preset (same model both ways) and renders idempotently.
        const back = parseManifest(r.text);
        assert.deepEqual(back.problems, []);
        for (const [k, v] of Object.entries(PRESETS[preset])) {
          assert.deepEqual(back.variant[k as keyof typeof back.variant], v, k);
        }
        assert.equal(renderManifest(r.text, PRESETS[preset]).text, r.text);
      });
    }
  }
});

describe("calico-v3.9.0: exact line diffs", () => {
  const src = UPSTREAM.skip ? "" : readInput("calico-v3.9.0");
  const upstream = { skip: UPSTREAM.skip };
  const diff = (spec: Parameters<typeof renderManifest>[1]) => {
    const d = lineDiff(src, renderManifest(src, spec).text);
    const t = changedTexts(d);
    return { d, removed: t.removed.sort(), added: t.added.sort() };
  };

  it("ipip (upstream default) changes nothing", upstream, () => {
    assert.deepEqual(diff(PRESETS.ipip).d, { removed: [], added: [] });
  });

  it("bgp changes exactly the IPIP value and adds FELIX_IPINIPENABLED", upstream, () => {
    const { removed, added } = diff(PRESETS.bgp);
    assert.deepEqual(removed, ['value: "Always"']);
    assert.deepEqual(added, ["- name: FELIX_IPINIPENABLED", 'value: "Never"', 'value: "false"'].sort());
  });

  it("bgp puts FELIX_IPINIPENABLED right after CALICO_IPV4POOL_IPIP", upstream, () => {
    const out = renderManifest(src, PRESETS.bgp).text;
    assert.match(
      out,
      /- name: CALICO_IPV4POOL_IPIP\n {14}value: "Never"\n {12}- name: FELIX_IPINIPENABLED\n {14}value: "false"\n/,
    );
  });

  it("crosssubnet changes one line", upstream, () => {
    const { removed, added } = diff(PRESETS.crosssubnet);
    assert.deepEqual([removed, added], [['value: "Always"'], ['value: "CrossSubnet"']]);
  });

  it("the pod CIDR change touches one line", upstream, () => {
    const { d, removed, added } = diff({ podCidr: "10.244.0.0/16" });
    assert.deepEqual([removed, added], [['value: "192.168.0.0/16"'], ['value: "10.244.0.0/16"']]);
    assert.equal(d.removed[0]![0], d.added[0]![0], "in place");
  });

  it("vxlan: backend, IPIP value, VXLAN + FELIX_VXLANENABLED added, -bird-ready dropped", upstream, () => {
    const { removed, added } = diff(PRESETS.vxlan);
    // A minimal line diff pairs the old IPIP "Always" with the new VXLAN "Always": the IPIP line reads as
    // an added "Never" and the VXLAN entry as its name line; the output text is asserted below.
    assert.deepEqual(removed, ["- -bird-ready", 'calico_backend: "bird"'].sort());
    assert.deepEqual(
      added,
      [
        'calico_backend: "vxlan"',
        'value: "Never"',
        "- name: CALICO_IPV4POOL_VXLAN",
        "- name: FELIX_VXLANENABLED",
        'value: "true"',
      ].sort(),
    );
    assert.match(
      renderManifest(src, PRESETS.vxlan).text,
      /- name: CALICO_IPV4POOL_IPIP\n {14}value: "Never"\n {12}- name: CALICO_IPV4POOL_VXLAN\n {14}value: "Always"\n {12}- name: FELIX_VXLANENABLED\n {14}value: "true"\n/,
    );
  });

  it("bgp with the lab's pod CIDR: three intended edits, nothing else", upstream, async () => {
    const r = renderManifest(src, { ...PRESETS.bgp, podCidr: "10.244.0.0/16" });
    await assertGolden(
      "manifest/render/calico-v3.9.0/bgp-pod-cidr.txt",
      goldenText(src, r.text, r.changes, r.notes),
    );
    const { removed, added } = changedTexts(lineDiff(src, r.text));
    assert.equal(removed.length, 2);
    assert.equal(added.length, 4);
  });
});

describe("the commented-out CIDR (v3.13+)", () => {
  for (const input of ["v3.13-shape", "v3.26-shape"]) {
    it(`${input}: a real entry is added below the comment, and the render says so`, async () => {
      const src = readInput(input);
      // The seed's sed would change nothing here: the only 192.168.0.0 is in a comment.
      assert.equal(parseManifest(src).variant.podCidr, "192.168.0.0/16");
      const r = renderManifest(src, { podCidr: "10.244.0.0/16" });
      await assertGolden(
        `manifest/render/${input}/pod-cidr.txt`,
        goldenText(src, r.text, r.changes, r.notes),
      );
      assert.equal(parseManifest(r.text).variant.podCidr, "10.244.0.0/16");
      const d = changedTexts(lineDiff(src, r.text));
      assert.deepEqual(d, { removed: [], added: ["- name: CALICO_IPV4POOL_CIDR", 'value: "10.244.0.0/16"'] });
      assert.match(
        r.text,
        /# {3}value: "192.168.0.0\/16"\n {12}- name: CALICO_IPV4POOL_CIDR\n {14}value: "10.244.0.0\/16"\n/,
      );
      assert.ok(r.notes.some((n) => n.field === "CALICO_IPV4POOL_CIDR" && /commented out/.test(n.message)));
    });
  }

  it('v3.26 shape: VXLAN is replaced in place and veth_mtu "0" (auto) is kept', () => {
    const src = readInput("v3.26-shape");
    const r = renderManifest(src, PRESETS.vxlan);
    assert.match(r.text, /veth_mtu: "0"/);
    assert.equal((r.text.match(/name: CALICO_IPV4POOL_VXLAN/g) ?? []).length, 1);
    assert.equal(parseManifest(r.text).settings.vethMtu, 0);
  });
});

describe("inputs the renderer refuses or repairs", () => {
  it("a document without a calico-node DaemonSet is a clear error", async () => {
    const err = catchError(() =>
      renderManifest(readInput("no-daemonset"), PRESETS.bgp, { subject: "no-daemonset.yaml" }),
    );
    await assertGolden("manifest/errors/no-daemonset.txt", err.message + "\n");
  });

  it("an operator manifest gets pointed at the Installation resource", () => {
    const src =
      "kind: Namespace\napiVersion: v1\nmetadata:\n  name: tigera-operator\n---\nkind: Installation\napiVersion: operator.tigera.io/v1\nmetadata:\n  name: default\n";
    assert.match(catchError(() => renderManifest(src, {})).message, /Installation resource/);
  });

  it("invalid YAML is reported with its line", () => {
    assert.match(catchError(() => renderManifest("a: [1,\nb: }\n", {})).message, /line \d+/);
  });

  it("the unquoted off trap is quoted by any render, even one that leaves IPIP alone", () => {
    const src = readInput("unquoted-off");
    const r = renderManifest(src, { podCidr: "10.244.0.0/16" });
    assert.match(r.text, /name: CALICO_IPV4POOL_IPIP\n {14}value: "Never"\n/);
    assert.deepEqual(parseManifest(r.text).problems, []);
  });

  it("env values the renderer writes are always double-quoted", () => {
    const r = renderManifest(readInput("template"), {
      blockSize: 24,
      natOutgoing: false,
      asNumber: 64513,
      ipipMtu: 1480,
      felixIpipEnabled: true,
      autodetect: "can-reach=192.168.19.165",
    });
    for (const [, line] of lineDiff(readInput("template"), r.text).added) {
      if (/value:/.test(line)) assert.match(line, /value: "[^"]*"$/);
    }
  });

  it("FELIX_IPINIPMTU bound to veth_mtu gets its own value only when it must differ", () => {
    const src = readInput("template");
    const same = renderManifest(src, { vethMtu: 1480, ipipMtu: 1480 });
    assert.deepEqual(changedTexts(lineDiff(src, same.text)), {
      removed: ['veth_mtu: "1440"'],
      added: ['veth_mtu: "1480"'],
    });
    const own = renderManifest(src, { vethMtu: 1450, ipipMtu: 1480 });
    assert.match(own.text, /name: FELIX_IPINIPMTU\n {14}value: "1480"\n/);
    assert.equal(parseManifest(own.text).variant.vethMtu, 1450);
  });

  it("a felix toggle set to null is removed again", () => {
    const src = readInput("template");
    const bgp = renderManifest(src, PRESETS.bgp).text;
    assert.equal(renderManifest(bgp, PRESETS.ipip).text, src);
  });

  it("etcd endpoints and TLS files land in calico-config", () => {
    const src = readInput("template-etcd");
    const r = renderManifest(src, {
      etcdEndpoints: ["https://192.168.19.165:2379"],
      etcdCaCertFile: "/calico-secrets/etcd-ca",
      etcdCertFile: "/calico-secrets/etcd-cert",
      etcdKeyFile: "/calico-secrets/etcd-key",
    });
    const d = changedTexts(lineDiff(src, r.text));
    assert.equal(d.removed.length, 4);
    assert.ok(d.added.includes('etcd_cert: "/calico-secrets/etcd-cert"'));
    assert.deepEqual(parseManifest(r.text).settings.datastore, {
      type: "etcdv3",
      endpoints: ["https://192.168.19.165:2379"],
      tls: {
        caCertFile: "/calico-secrets/etcd-ca",
        certFile: "/calico-secrets/etcd-cert",
        keyFile: "/calico-secrets/etcd-key",
      },
    });
  });
});

export function catchError(fn: () => unknown): ManifestError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ManifestError) return e;
    throw e;
  }
  assert.fail("expected a ManifestError");
}
