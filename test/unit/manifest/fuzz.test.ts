// Property: whatever a user's manifest looks like, render-manifest's core (main) either writes a manifest
// that parses back clean, or lists problems that each name a field and a fix, and exits 1 (2 for usage).
// Never an exception, never the internal-error exit. Inputs are random mutations of our own fixtures.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { INTERNAL_ERROR, main } from "../../../src/cli/render.ts";
import { LAB_NETWORK, MODES, parseManifest } from "../../../src/manifest/index.ts";
import { readInput } from "./helpers.ts";

const FIXTURES = [
  "template",
  "template-etcd",
  "v3.13-shape",
  "v3.26-shape",
  "head-shape",
  "invalid-backend",
  "unquoted-off",
  "two-daemonsets",
  "helm-template-quoted",
];
const TEXT = new Map(FIXTURES.map((name) => [name, readInput(name)]));

/** Values a hand edit (or a bad sed) leaves behind. */
const VALUES = [
  "",
  '""',
  "off",
  "yes",
  "~",
  "null",
  '"birdd"',
  '"vxlan"',
  '"none"',
  '"Always"',
  '"always"',
  '"CrossSubnet"',
  "1440",
  '"0"',
  '"-1"',
  '"99999999999"',
  '"10.244.0.0/16"',
  '"192.168.0.0/16"',
  '"10.244.1.0/33"',
  '"http://<ETCD_IP>:<ETCD_PORT>"',
  '"{{ .Values.node.image }}"',
  '"can-reach=999.1.1.1"',
  '"interface=*eth0"',
  "[a, b]",
  "{a: 1}",
  "*x",
  "&x v",
  "|\n  block",
  '"a\\nb"',
  "'single'",
  "-bird-ready",
  "--bird-live",
];

type Mutation = (lines: string[]) => string[];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((i) => (l: string[]) => l.filter((_, j) => j !== i % l.length)),
  fc.nat().map((i) => (l: string[]) => {
    const k = i % l.length;
    return [...l.slice(0, k + 1), l[k]!, ...l.slice(k + 1)];
  }),
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => (l: string[]) => {
    const out = [...l];
    const [i, j] = [a % l.length, b % l.length];
    [out[i], out[j]] = [out[j]!, out[i]!];
    return out;
  }),
  fc.tuple(fc.nat(), fc.constantFrom(...VALUES)).map(([i, v]) => (l: string[]) => {
    // Replace the value of a `key: value` or `- item` line.
    const candidates = l.map((s, j) => [s, j] as const).filter(([s]) => /^\s*(- |[\w.-]+: )\S/.test(s));
    if (candidates.length === 0) return l;
    const [s, j] = candidates[i % candidates.length]!;
    const out = [...l];
    out[j] = s.replace(/^(\s*(?:- |[\w.-]+: )).*$/, `$1${v}`);
    return out;
  }),
  fc.tuple(fc.nat(), fc.constantFrom(-2, 2, -1, 1)).map(([i, d]) => (l: string[]) => {
    const out = [...l];
    const k = i % l.length;
    out[k] = d > 0 ? " ".repeat(d) + out[k] : out[k]!.replace(new RegExp(`^ {0,${-d}}`), "");
    return out;
  }),
  fc
    .tuple(fc.nat(), fc.constantFrom("---", "", "# comment", "\t", "kind: DaemonSet", "  - x"))
    .map(([i, s]) => (l: string[]) => {
      const k = i % (l.length + 1);
      return [...l.slice(0, k), s, ...l.slice(k)];
    }),
  fc.nat().map((i) => (l: string[]) => l.slice(0, i % (l.length + 1))),
);

const flags: fc.Arbitrary<string[]> = fc.oneof(
  fc.constant<string[]>([]),
  fc.constantFrom(...MODES).map((p) => ["--preset", p]),
  fc.constantFrom(...MODES).map((p) => ["--preset", p, "--no-network-checks"]),
  fc.constantFrom(...MODES).map((p) => ["--preset", p, "--mtu", "9000"]),
  fc.constant<string[]>(["--pod-cidr", "10.250.0.0/16", "--backend", "bird"]),
  fc.constant<string[]>(["--etcd-endpoints", "http://192.168.19.165:2379"]),
  fc.constant<string[]>(["--parse"]),
);

const PROBLEMS = /^render-manifest: .+: \d+ problems?\n( {2}- .+ = .+: .+\n {4}fix: .+\n)+$/;
const USAGE = /^render-manifest: .+\n\(see --help\)\n$/;

function run(text: string, args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = main(["--input", "in.yaml", "-q", ...args], {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    readFile: () => text,
    writeFile: () => assert.fail("no --output given"),
  });
  return { code, stdout, stderr };
}

describe("render-manifest on random mutations of real-shaped manifests (property)", () => {
  it("renders something that parses back, or lists problems with field and fix; never throws", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FIXTURES),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        flags,
        (fixture, mutations, args) => {
          const text = mutations
            .reduce((l, m) => (l.length === 0 ? l : m(l)), TEXT.get(fixture)!.split("\n"))
            .join("\n");
          const r = run(text, args);
          const why = `${fixture} ${args.join(" ")}: exit ${r.code}\n${r.stderr.slice(0, 2000)}`;
          assert.notEqual(r.code, INTERNAL_ERROR, why);
          if (r.code === 0) {
            if (args.includes("--parse")) {
              assert.ok(JSON.parse(r.stdout).pool, "settings JSON");
              return;
            }
            const network = args.includes("--no-network-checks")
              ? undefined
              : { ...LAB_NETWORK, underlayMtu: args.includes("9000") ? 9000 : 1500 };
            const back = parseManifest(r.stdout, network ? { network } : {});
            assert.deepEqual(back.problems, [], why);
            return;
          }
          if (r.code === 1) {
            assert.match(r.stderr, PROBLEMS, why);
          } else {
            assert.equal(r.code, 2, why);
            assert.match(r.stderr, USAGE, why);
          }
        },
      ),
      {
        numRuns: Number(process.env.FUZZ_RUNS ?? 150),
        // FUZZ_SEED replays a reported failure.
        ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}),
        includeErrorInReport: true,
      },
    );
  });
});
