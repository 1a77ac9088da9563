// What upstream manifests and users' files really look like: HEAD's two-dash probe flags, vxlan and back,
// two calico-node DaemonSets, Helm chart sources, a misspelt backend, calico-etcd.yaml's placeholder.
// Every refusal is golden text naming the field and a fix.
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
import { changedTexts, lineDiff, readInput } from "./helpers.ts";
import { catchError } from "./render.test.ts";

const BIRD_PRESETS = ["ipip", "bgp", "crosssubnet"] as const;

/** The probe command lines calico-node runs, in order. */
const probeLines = (text: string) => text.split("\n").filter((l) => /^\s*- --?(felix|bird)-/.test(l));

function problemsText(e: ManifestError): string {
  for (const p of e.problems) assert.ok(p.field && p.value && p.message && p.fix, JSON.stringify(p));
  return e.message + "\n";
}

describe("BIRD probes in both spellings", () => {
  it("vxlan removes HEAD's --bird-ready and --bird-live", () => {
    const src = readInput("head-shape");
    const r = renderManifest(src, PRESETS.vxlan);
    const d = changedTexts(lineDiff(src, r.text));
    assert.ok(d.removed.includes("- --bird-ready"));
    assert.ok(d.removed.includes("- --bird-live"));
    assert.deepEqual(
      probeLines(r.text).map((l) => l.trim()),
      ["- --felix-live", "- --felix-ready"],
    );
    assert.ok(
      r.changes.includes("calico-node readinessProbe: removed --bird-ready (no BIRD with this backend)"),
    );
  });

  it("--parse reports BIRD probes under a backend without BIRD, in either spelling", async () => {
    for (const [input, golden] of [
      ["head-shape", "vxlan-with-bird-probes-two-dashes"],
      ["v3.26-shape", "vxlan-with-bird-probes-one-dash"],
    ] as const) {
      const src = readInput(input)
        .replace('calico_backend: "bird"', 'calico_backend: "vxlan"')
        .replace(/(CALICO_IPV4POOL_IPIP\n\s+value: )"Always"/, '$1"Never"')
        .replace(/(CALICO_IPV4POOL_VXLAN\n\s+value: )"Never"/, '$1"Always"');
      const parsed = parseManifest(src, { subject: `${input}.yaml` });
      assert.equal(parsed.problems.length, 2, JSON.stringify(parsed.problems));
      await assertGolden(
        `manifest/errors/${golden}.txt`,
        problemsText(new ManifestError(`${input}.yaml`, parsed.problems)),
      );
    }
  });

  for (const input of ["head-shape", "v3.26-shape", "v3.13-shape"] as const) {
    for (const preset of BIRD_PRESETS) {
      it(`vxlan → ${preset} restores the BIRD probes on ${input}, in its spelling`, () => {
        const src = readInput(input);
        const direct = renderManifest(src, PRESETS[preset]).text;
        const back = renderManifest(renderManifest(src, PRESETS.vxlan).text, PRESETS[preset]);
        assert.deepEqual(probeLines(back.text), probeLines(direct));
        assert.deepEqual(parseManifest(back.text).variant, parseManifest(direct).variant);
        assert.ok(back.changes.some((c) => /readinessProbe: added --?bird-ready/.test(c)));
        assert.deepEqual(parseManifest(back.text).problems, []);
      });
    }
  }

  it("vxlan → ipip gives back the input byte for byte", () => {
    for (const input of ["head-shape", "v3.26-shape"] as const) {
      const src = readInput(input);
      assert.equal(renderManifest(renderManifest(src, PRESETS.vxlan).text, PRESETS.ipip).text, src, input);
    }
  });

  it("flow-style probe commands lose and regain their BIRD check in place", () => {
    const src = readInput("head-shape")
      .replace(
        /command:\n\s+- \/bin\/calico-node\n\s+- --felix-live\n\s+- --bird-live/,
        'command: ["/bin/calico-node", "--felix-live", "--bird-live"]',
      )
      .replace(
        /command:\n\s+- \/bin\/calico-node\n\s+- --felix-ready\n\s+- --bird-ready/,
        "command: [/bin/calico-node, --bird-ready, --felix-ready]",
      );
    assert.equal(probeLines(src).length, 0);
    const vx = renderManifest(src, PRESETS.vxlan).text;
    assert.match(vx, /command: \["\/bin\/calico-node", "--felix-live"\]\n/);
    assert.match(vx, /command: \[\/bin\/calico-node, --felix-ready\]\n/);
    assert.deepEqual(parseManifest(vx).problems, []);
    const back = renderManifest(vx, PRESETS.ipip).text;
    assert.match(back, /command: \["\/bin\/calico-node", "--felix-live", "--bird-live"\]\n/);
    assert.match(back, /command: \[\/bin\/calico-node, --felix-ready, --bird-ready\]\n/);
  });

  it("a v3.8/v3.9-era liveness probe (felix only) gets no BIRD check back", () => {
    const src = readInput("unquoted-off").replace("value: off", 'value: "Always"');
    const vx = renderManifest(src, PRESETS.vxlan).text;
    const back = renderManifest(vx, PRESETS.ipip);
    assert.ok(!back.changes.some((c) => c.includes("livenessProbe")), back.changes.join("\n"));
    assert.deepEqual(probeLines(back.text), probeLines(src));
  });

  it("the lab template (v3.11) keeps its readiness check and gains the liveness one", () => {
    const src = readInput("template");
    const back = renderManifest(renderManifest(src, PRESETS.vxlan).text, PRESETS.ipip);
    assert.deepEqual(changedTexts(lineDiff(probeLines(src).join("\n"), probeLines(back.text).join("\n"))), {
      removed: [],
      added: ["- -bird-live"],
    });
  });
});

describe("inputs render-manifest refuses, with field and fix", () => {
  it("two calico-node DaemonSets: both named, render and parse alike", async () => {
    const src = readInput("two-daemonsets");
    const render = catchError(() => renderManifest(src, PRESETS.vxlan, { subject: "two-daemonsets.yaml" }));
    const parse = catchError(() => parseManifest(src, { subject: "two-daemonsets.yaml" }));
    assert.equal(render.message, parse.message);
    assert.match(
      render.message,
      /kube-system\/calico-node in document 2, calico-system\/calico-node in document 3/,
    );
    await assertGolden("manifest/errors/two-daemonsets.txt", problemsText(render));
  });

  for (const input of ["helm-template", "helm-template-quoted", "helm-chart"] as const) {
    it(`a Helm chart source (${input}): one problem, render the chart first`, async () => {
      const src = readInput(input);
      for (const fn of [
        () => renderManifest(src, PRESETS.ipip, { subject: `${input}.yaml` }),
        () => parseManifest(src, { subject: `${input}.yaml` }),
      ]) {
        const e = catchError(fn);
        assert.equal(e.problems.length, 1);
        assert.match(e.problems[0]!.fix, /helm template/);
      }
      await assertGolden(
        `manifest/errors/${input}.txt`,
        problemsText(catchError(() => parseManifest(src, { subject: `${input}.yaml` }))),
      );
    });
  }

  it("braces that are not Helm's (a description's {{ name }}) are left alone", () => {
    const src = readInput("v3.26-shape").replace(
      "openAPIV3Schema:\n        type: object",
      "openAPIV3Schema:\n        description: names look like {{ name }}\n        type: object",
    );
    assert.match(src, /\{\{ name \}\}/);
    assert.match(renderManifest(src, PRESETS.bgp).text, /\{\{ name \}\}/);
  });

  it("a pod MTU change with no calico-config to hold veth_mtu is refused, not dropped", async () => {
    const src = readInput("v3.26-shape").replace(
      "name: calico-config\n  namespace: kube-system\ndata:",
      "name: calico-settings\n  namespace: kube-system\ndata:",
    );
    const e = catchError(() => renderManifest(src, { vethMtu: 1480 }, { subject: "no-calico-config.yaml" }));
    await assertGolden("manifest/errors/no-calico-config-for-veth-mtu.txt", problemsText(e));
  });

  it("broken YAML lists five syntax errors and counts the rest", async () => {
    const src = readInput("v3.26-shape").replace(/^(\s+)- name: /gm, "$1- name: [");
    const e = catchError(() => parseManifest(src, { subject: "broken.yaml" }));
    assert.equal(e.problems.length, 6);
    assert.equal(e.problems[5]!.field, "(more YAML errors)");
    await assertGolden("manifest/errors/yaml-errors-capped.txt", problemsText(e));
  });

  it("calico-etcd.yaml's <ETCD_IP> placeholder: pass --etcd-endpoints", async () => {
    const src = readInput("template-etcd").replace(
      'etcd_endpoints: "http://192.168.19.165:2379"',
      'etcd_endpoints: "http://<ETCD_IP>:<ETCD_PORT>"',
    );
    const e = catchError(() => renderManifest(src, PRESETS.bgp, { subject: "calico-etcd.yaml" }));
    assert.match(e.message, /--etcd-endpoints/);
    await assertGolden("manifest/errors/etcd-placeholder.txt", problemsText(e));
    const fixed = renderManifest(src, { ...PRESETS.bgp, etcdEndpoints: ["http://10.0.0.5:2379"] });
    assert.deepEqual(parseManifest(fixed.text).variant.etcdEndpoints, ["http://10.0.0.5:2379"]);
  });
});

describe("a misspelt calico_backend (birdd)", () => {
  const src = readInput("invalid-backend");

  for (const preset of [...BIRD_PRESETS, "vxlan"] as const) {
    it(`the ${preset} preset, which sets the backend, rewrites it`, () => {
      const spec = { ...PRESETS[preset], podCidr: "10.250.0.0/16" };
      const r = renderManifest(src, spec, { network: LAB_NETWORK });
      assert.ok(
        r.changes.some((c) => c.includes('"birdd" →')),
        r.changes.join("\n"),
      );
      assert.deepEqual(parseManifest(r.text, { network: LAB_NETWORK }).problems, []);
    });
  }

  it("a render that leaves the backend alone reports it, as --parse does", async () => {
    const spec: VariantSpec = { podCidr: "10.250.0.0/16" };
    const e = catchError(() => renderManifest(src, spec, { subject: "invalid-backend.yaml" }));
    const parsed = parseManifest(src, { subject: "invalid-backend.yaml" });
    assert.deepEqual(
      e.problems,
      parsed.problems.filter((p) => p.field.startsWith("CALICO_NETWORKING_BACKEND")),
    );
    await assertGolden("manifest/errors/invalid-backend.txt", problemsText(e));
  });
});

describe("env entries the renderer rewrites whatever their shape", () => {
  for (const [name, entry] of [
    ["a list value", "- name: CALICO_IPV4POOL_IPIP\n              value: [a, b]"],
    ["no value", "- name: CALICO_IPV4POOL_IPIP"],
    ["a flow map", '- { name: CALICO_IPV4POOL_IPIP, value: "Always" }'],
  ] as const) {
    it(`${name}`, () => {
      const src = readInput("v3.26-shape").replace(
        '- name: CALICO_IPV4POOL_IPIP\n              value: "Always"',
        entry,
      );
      assert.notEqual(src, readInput("v3.26-shape"));
      const r = renderManifest(src, PRESETS.bgp);
      assert.equal(parseManifest(r.text).variant.ipipMode, "Never");
    });
  }
});
