// The whole stack check (topology and Calico variant together), as `pulumi preview` runs it: each hostile
// configuration is refused with one line per cause naming the user's key, and each mechanical fix, applied,
// makes the configuration pass.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { readLabConfig } from "../../../src/config/read.ts";
import { formatProblems } from "../../../src/problems.ts";
import { daemonArgv, parseDaemonArgs } from "../../../src/agent/daemon/args.ts";
import { assertGolden } from "../../support/golden.ts";

const REPO = join(import.meta.dirname, "..", "..", "..");
const NS = "calico-lab";
type Raw = Record<string, unknown>;

/** Runs the check as the program does: keys namespaced, values as Pulumi hands them over. */
function check(raw: Raw, extra: Record<string, unknown> = {}) {
  const keys = [...Object.keys(raw).map((k) => `${NS}:${k}`), ...Object.keys(extra)];
  return readLabConfig("lab", raw, keys, extra);
}

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `h${i + 1}`);
const fivePods = Array.from({ length: 5 }, (_, i) => ({ name: `p${i + 1}`, host: "worker-1" }));

interface Case {
  raw: Raw;
  /** Keys in other namespaces (full key → value). */
  extra?: Record<string, unknown>;
  /** The configuration after applying the message's fix (keys replaced; null removes one). */
  fixed?: Raw | ((raw: Raw) => Raw);
  /** Fields that must each be named by exactly one problem. */
  once?: string[];
}

const cases: Record<string, Case> = {
  // Pool capacity: every host taking addresses needs a block of its own.
  "pool-too-small-for-blocks": {
    raw: { podCidr: "10.244.0.0/26", blockSize: 26 },
    fixed: { podCidr: "10.244.0.0/24" },
  },
  "pool-too-small-for-blocks-block-size-fix": {
    raw: { podCidr: "10.244.0.0/26", blockSize: 26, mode: "bgp" },
    fixed: { blockSize: 27 },
  },
  "pool-too-small-for-pods": {
    raw: { podCidr: "10.244.0.0/30", pods: fivePods },
    fixed: { podCidr: "10.244.0.0/24" },
  },
  "one-host": { raw: { hosts: ["master"] }, fixed: { hosts: ["master", "worker-1"] } },
  "one-host-named-worker-1": {
    raw: { hosts: [{ name: "worker-1", address: "192.168.19.10" }] },
    fixed: { hosts: [{ name: "worker-1", address: "192.168.19.10" }, "worker-2"] },
  },
  // No room for the outside host: once a bare "0 configuration problems".
  "no-room-for-outside-254": {
    raw: { hostOffset: 1, hosts: hosts(254) },
    fixed: { underlayCidr: "192.168.18.0/23" },
  },
  "no-room-for-outside-30": {
    raw: { underlayCidr: "10.0.0.0/30", hostOffset: 1, hosts: ["a", "b"] },
    fixed: { underlayCidr: "10.0.0.0/29" },
  },
  "pod-host-and-selector": {
    raw: { pods: [{ name: "p1", host: "worker-1", nodeSelector: { worker: "no-2" } }] },
    fixed: { pods: [{ name: "p1", host: "worker-1" }] },
  },
  // Autodetection, against the lab's own hosts.
  "autodetect-bad-can-reach": {
    raw: { autodetect: "can-reach=999.1.1.1" },
    fixed: { autodetect: "can-reach=192.168.19.165" },
  },
  "autodetect-can-reach-pod": {
    raw: { autodetect: "can-reach=10.244.1.1" },
    fixed: { autodetect: "can-reach=192.168.19.165" },
  },
  "autodetect-interface-matches-nothing": {
    raw: { autodetect: "interface=ens.*" },
    fixed: { autodetect: "interface=eth0" },
  },
  "autodetect-skips-underlay": {
    raw: { autodetect: "skip-interface=docker.*,eth.*" },
    fixed: { autodetect: "skip-interface=docker.*" },
  },
  "autodetect-cidr-misses-hosts": {
    raw: { autodetect: "cidr=10.1.0.0/16" },
    fixed: { autodetect: "cidr=192.168.19.0/24" },
  },
  "autodetect-kubernetes": {
    raw: { autodetect: "kubernetes-internal-ip" },
    fixed: { autodetect: "first-found" },
  },
  "autodetect-user-key": { raw: { autodetect: "interfac=eth0" }, fixed: { autodetect: "interface=eth0" } },
  // Labels: Kubernetes syntax, and never a way to set another label.
  "label-comma-injects": {
    raw: {
      hosts: ["master", { name: "worker-1", labels: { worker: "no-1,route-reflector=true" } }, "worker-2"],
    },
    fixed: {
      hosts: ["master", { name: "worker-1", labels: { worker: "no-1-route-reflector-true" } }, "worker-2"],
    },
  },
  "label-shell-like": {
    raw: {
      hosts: [
        "master",
        { name: "worker-1", labels: { "$(touch /tmp/x)": "a", zone: "`id`", "a/b/c": "x", "-x": "y" } },
      ],
    },
  },
  "label-route-reflector": {
    raw: { hosts: ["master", { name: "worker-1", labels: { "route-reflector": "true" } }, "worker-2"] },
    fixed: { hosts: ["master", "worker-1", "worker-2"], routeReflectors: ["worker-1"] },
  },
  "label-set-by-the-agent": {
    raw: { hosts: ["master", { name: "worker-1", labels: { "kubernetes.io/hostname": "master" } }] },
    fixed: { hosts: ["master", { name: "worker-1", labels: { "example.com/name": "master" } }] },
  },
  // Unknown keys, nested and in a wrong namespace.
  "unknown-nested-keys": {
    raw: {
      hosts: [
        "master",
        { name: "worker-1", adress: "192.168.19.166", lables: { worker: "no-1" } },
        { name: "worker-2", labels: { worker: "no-2" } },
      ],
      pods: [
        { name: "p1", host: "worker-1", sever: true },
        { name: "p2", nodeselector: { worker: "no-2" }, host: "worker-2" },
      ],
      outside: { asnumber: 65001 },
    },
    fixed: {
      hosts: [
        "master",
        { name: "worker-1", address: "192.168.19.166", labels: { worker: "no-1" } },
        { name: "worker-2", labels: { worker: "no-2" } },
      ],
      pods: [
        { name: "p1", host: "worker-1", server: true },
        { name: "p2", nodeSelector: { worker: "no-2" } },
      ],
      outside: { asNumber: 65001 },
    },
  },
  "wrong-namespace": {
    raw: {},
    extra: { "calicolab:mode": "bgp", "calico_lab:hosts": "[]", "pulumi:tags": "{}" },
  },
  "rr-in-vxlan": { raw: { mode: "vxlan", routeReflectors: ["master"] }, fixed: { routeReflectors: null } },
  "service-in-underlay": {
    raw: { serviceCidr: "192.168.19.0/26" },
    fixed: { serviceCidr: "172.16.0.0/26" },
    once: [`${NS}:serviceCidr`],
  },
  "service-overlaps-pool": {
    raw: { serviceCidr: "10.244.0.0/20" },
    fixed: { serviceCidr: "172.16.0.0/20" },
    once: [`${NS}:serviceCidr`],
  },
  // Every problem at once: a bad mode or natOutgoing does not hide blockSize.
  "every-problem-at-once": {
    raw: { mode: "fast", natOutgoing: "yes", blockSize: 40 },
    fixed: { mode: "bgp", natOutgoing: true, blockSize: 26 },
    once: [`${NS}:mode`, `${NS}:natOutgoing`, `${NS}:blockSize`],
  },
  // One cause, one line.
  "pod-overlap-one-line": {
    raw: { podCidr: "192.168.0.0/16" },
    fixed: { podCidr: "10.244.0.0/16" },
    once: [`${NS}:podCidr`],
  },
  "mtu-zero": { raw: { mode: "bgp", mtu: 0 }, fixed: { mtu: 9000 }, once: [`${NS}:mtu`] },
  "underlay-holds-default-pool": {
    raw: { underlayCidr: "10.0.0.0/8" },
    fixed: { podCidr: "172.16.0.0/16", serviceCidr: "100.64.0.0/12" },
  },
  "underlay-not-a-network": { raw: { underlayCidr: "bogus" }, fixed: { underlayCidr: "192.168.19.0/24" } },
  // Edge cases past the list.
  "host-on-network-address": {
    raw: { hosts: [{ name: "a", address: "192.168.19.0" }, "b"] },
    fixed: { hosts: [{ name: "a", address: "192.168.19.10" }, "b"] },
  },
  "outside-on-broadcast": {
    raw: { outside: { address: "192.168.19.255" } },
    fixed: { outside: { address: "192.168.19.200" } },
  },
  "outside-as-of-cluster": { raw: { outside: { asNumber: 64512 } }, fixed: { outside: { asNumber: 65001 } } },
  "outside-as-trans": { raw: { outside: { asNumber: 23456 } }, fixed: { outside: { asNumber: 65001 } } },
  "outside-as-in-vxlan": { raw: { mode: "vxlan", outside: { asNumber: 65001 } }, fixed: { outside: null } },
  "as-zero": { raw: { asNumber: 0 }, fixed: { asNumber: 64512 } },
  "as-too-large": { raw: { asNumber: 4294967296 }, fixed: { asNumber: 4294967295 } },
  "mtu-68": { raw: { mtu: 68 }, fixed: { mtu: 1500 }, once: [`${NS}:mtu`] },
  "mtu-9001": { raw: { mtu: 9001 }, fixed: { mtu: 9000 }, once: [`${NS}:mtu`] },
  "block-size-19": { raw: { blockSize: 19 }, fixed: { blockSize: 20 } },
  "block-size-33": { raw: { blockSize: 33 }, fixed: { blockSize: 32 } },
  "underlay-everything": {
    raw: { underlayCidr: "0.0.0.0/0", podCidr: "127.0.0.0/16", serviceCidr: "224.0.0.0/12" },
    fixed: { underlayCidr: "192.168.19.0/24", podCidr: "10.244.0.0/16", serviceCidr: "10.96.0.0/12" },
  },
  "rr-listed-twice": {
    raw: { routeReflectors: ["master", "master"] },
    fixed: { routeReflectors: ["master"] },
  },
};

function applyFix(raw: Raw, fixed: NonNullable<Case["fixed"]>): Raw {
  if (typeof fixed === "function") return fixed(raw);
  const out = { ...raw };
  for (const [k, v] of Object.entries(fixed)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

describe("stack check", () => {
  for (const [name, c] of Object.entries(cases)) {
    it(`refuses ${name} at preview, naming the user's keys`, async () => {
      const r = check(c.raw, c.extra);
      assert.equal(r.ok, false);
      if (r.ok) return;
      for (const p of r.problems) {
        assert.match(p.field, /^(calico-lab:|calicolab:|calico_lab:)/, `not a user's key: ${p.field}`);
        assert.doesNotMatch(p.field, / \(|CALICO_|FELIX_|IP_AUTODETECTION/, `a manifest name: ${p.field}`);
      }
      const lines = r.problems.map((p) => `${p.field}: ${p.message}`);
      assert.equal(new Set(lines).size, lines.length, "a problem is listed twice");
      for (const f of c.once ?? [])
        assert.equal(r.problems.filter((p) => p.field === f).length, 1, `${f} is not named exactly once`);
      await assertGolden(`config/${name}.txt`, formatProblems('stack "lab"', r.problems) + "\n");
      if (c.fixed) {
        const after = check(applyFix(c.raw, c.fixed), c.extra);
        assert.ok(
          after.ok,
          `the fix does not pass:\n${after.ok ? "" : formatProblems("fixed", after.problems)}`,
        );
      }
    });
  }

  it("never suggests the value it refuses", () => {
    for (const [name, c] of Object.entries(cases)) {
      const r = check(c.raw, c.extra);
      if (r.ok) continue;
      for (const p of r.problems) {
        if (p.value === "(unset)" || p.value.length < 4) continue;
        const unquoted = p.value.replace(/^"|"$/g, "");
        assert.ok(
          !new RegExp(`e\\.g\\. "?${unquoted.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}"?(\\s|$|\\))`).test(
            p.fix,
          ),
          `${name}: ${p.field} = ${p.value} suggests itself: ${p.fix}`,
        );
      }
    }
  });

  it("passes every stack file the project ships", () => {
    for (const f of readdirSync(join(REPO, "stacks")).filter((n) => n.endsWith(".yaml"))) {
      const doc = parse(readFileSync(join(REPO, "stacks", f), "utf8")) as {
        config?: Record<string, unknown>;
      };
      const all = doc.config ?? {};
      const raw: Raw = {};
      for (const [k, v] of Object.entries(all)) if (k.startsWith(`${NS}:`)) raw[k.slice(NS.length + 1)] = v;
      const stack = f.replace(/^Pulumi\.|\.yaml$/g, "");
      const r = readLabConfig(stack, raw, Object.keys(all), all);
      assert.ok(r.ok, `${f}:\n${r.ok ? "" : formatProblems(stack, r.problems)}`);
    }
  });

  it("formatProblems refuses to print zero problems", () => {
    assert.throws(() => formatProblems('stack "lab"', []), /no problem/);
  });
});

describe("labels reach the agent as data", () => {
  it("a comma in a value cannot create a second label", () => {
    const labels = { worker: "no-1,route-reflector=true" };
    const argv = daemonArgv({ manifest: "m", nodeName: "worker-1", runDir: "d", labels });
    // One argument per label: the whole value stays in it.
    assert.deepEqual(argv.slice(argv.indexOf("--label"), argv.indexOf("--label") + 2), [
      "--label",
      "worker=no-1,route-reflector=true",
    ]);
    assert.equal(argv.filter((a) => a === "--label").length, 1);
    // And the agent refuses such a value rather than splitting it.
    assert.throws(() => parseDaemonArgs(argv), /invalid label value "no-1,route-reflector=true" for worker/);
  });

  it("valid labels round-trip one per argument, prefixed keys and empty values included", () => {
    const labels = { worker: "no-1", "example.com/zone": "a.b_c-1", empty: "" };
    const a = parseDaemonArgs(daemonArgv({ manifest: "m", nodeName: "n", runDir: "d", labels }));
    assert.deepEqual(a.labels, labels);
    assert.throws(
      () => parseDaemonArgs(["--manifest=m", "--nodename=n", "--run-dir=d", "--label=a=1", "--label=a=2"]),
      /given twice/,
    );
  });
});

describe("stack check on generated configurations", () => {
  // A deterministic sample of combinations of good and bad values: whatever the mix, the check never
  // throws, and a refusal always names at least one cause (never "0 configuration problems").
  const choices: Record<string, unknown[]> = {
    mode: [undefined, "bgp", "vxlan", "ipip", "crosssubnet", "fast", 3],
    underlayCidr: [undefined, "10.0.0.0/8", "192.168.19.0/30", "10.0.0.0/29", "bogus", "0.0.0.0/0"],
    podCidr: [undefined, "10.244.0.0/26", "10.244.0.0/30", "192.168.0.0/16", "10.244.0.1/16", 7],
    serviceCidr: [undefined, "192.168.19.0/26", "10.244.0.0/20", "x"],
    blockSize: [undefined, 26, 20, 32, 40, "big", 19],
    mtu: [undefined, 0, 1280, 9000, 9001, "big"],
    hostOffset: [undefined, 1, 0, 250, "x"],
    hosts: [
      undefined,
      ["master"],
      ["a", "b"],
      hosts(254),
      [],
      ["m", "m"],
      "master",
      [{ name: "a", adress: "x" }],
    ],
    natOutgoing: [undefined, true, "yes"],
    autodetect: [undefined, "can-reach=999.1.1.1", "interface=ens.*", "cidr=10.1.0.0/16", "bad=1"],
    routeReflectors: [undefined, [], ["master"], ["master", "master"], "master"],
    outside: [undefined, { asNumber: 64512 }, { address: "192.168.19.255" }, "x", { asnumber: 1 }],
    routedCidr: [undefined, "192.168.20.0/24", "192.168.19.128/25"],
    pods: [undefined, [], [{ name: "p", host: "worker-1", nodeSelector: { a: "b" } }], fivePods, "x"],
  };
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  it("never throws and never refuses without a cause (400 samples)", () => {
    for (let i = 0; i < 400; i++) {
      const raw: Raw = {};
      for (const [k, vs] of Object.entries(choices)) {
        const v = vs[next() % vs.length];
        if (v !== undefined) raw[k] = v;
      }
      const r = check(raw);
      if (!r.ok) assert.ok(r.problems.length > 0, JSON.stringify(raw));
    }
  });
});
