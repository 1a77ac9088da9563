// kubeadm's configuration for the lab's hosts: the text is pinned by golden files, refusals too, and the
// built kubeadm (scripts/setup puts it in .tools/k8s/bin) validates what is written, when it is there.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import {
  CONTROL_PLANE_TAINT,
  IGNORED_PREFLIGHT,
  INIT_IGNORED,
  JOIN_IGNORED,
  SKIPPED_PHASES,
  SKIPPED_PHASES_NOTICE,
  TCG_TIMEOUTS,
  initConfiguration,
  joinConfiguration,
  type InitInputs,
  type JoinInputs,
} from "../../../src/kubernetes/kubeadm-config.ts";
import { KUBERNETES_VERSION, kubeadmImages } from "../../../src/kubernetes/version.ts";
import { ProblemError } from "../../../src/problems.ts";
import { assertGolden } from "../../support/golden.ts";
import { REPO_ROOT } from "../../support/pulumi-env.ts";

const TOKEN = "abcdef.0123456789abcdef";
const HASH = `sha256:${"0f".repeat(32)}`;

const init: InitInputs = {
  clusterName: "ipip-k8s",
  kubernetesVersion: KUBERNETES_VERSION,
  nodeName: "master",
  address: "192.168.19.165",
  labels: {},
  podCidr: "10.244.0.0/16",
  serviceCidr: "10.96.0.0/12",
  etcdEndpoints: ["http://192.168.19.165:2379"],
  bootstrapToken: TOKEN,
};
const join1: JoinInputs = {
  nodeName: "worker-1",
  address: "192.168.19.166",
  labels: { worker: "no-1" },
  apiServerEndpoint: "192.168.19.165:6443",
  bootstrapToken: TOKEN,
  ca: { certHash: HASH },
};

/** A configuration read back: kubeadm's YAML, navigated loosely (the golden files pin its exact text). */
interface Doc {
  kind: string;
  skipPhases?: string[];
  timeouts?: unknown;
  nodeRegistration: Record<string, unknown>;
  etcd?: unknown;
  networking: { podSubnet?: string };
  kubernetesVersion?: string;
  cgroupDriver?: string;
  failSwapOn?: boolean;
  discovery: { bootstrapToken: Record<string, unknown> };
}
const docsOf = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as Doc);

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ProblemError, `not a ProblemError: ${String(e)}`);
    for (const p of e.problems) assert.ok(p.field && p.message && p.fix, JSON.stringify(p));
    return e.message + "\n";
  }
  assert.fail("accepted");
}

describe("kubeadm init configuration", () => {
  it("is pinned: InitConfiguration, ClusterConfiguration, KubeletConfiguration", async () => {
    await assertGolden("kubernetes/init-master.yaml", initConfiguration(init));
  });

  it("holds the lab's choices", () => {
    const [i, c, k] = docsOf(initConfiguration(init));
    assert.deepEqual(
      [i!.kind, c!.kind, k!.kind],
      ["InitConfiguration", "ClusterConfiguration", "KubeletConfiguration"],
    );
    assert.deepEqual(i!.skipPhases, [...SKIPPED_PHASES]);
    assert.deepEqual(i!.nodeRegistration.taints, [CONTROL_PLANE_TAINT]);
    assert.equal(i!.nodeRegistration.imagePullPolicy, "Never");
    assert.deepEqual(i!.nodeRegistration.ignorePreflightErrors, INIT_IGNORED);
    assert.deepEqual(i!.timeouts, TCG_TIMEOUTS);
    assert.deepEqual(c!.etcd, { external: { endpoints: ["http://192.168.19.165:2379"] } });
    assert.equal(c!.networking.podSubnet, "10.244.0.0/16");
    assert.equal(c!.kubernetesVersion, KUBERNETES_VERSION);
    assert.equal(k!.cgroupDriver, "cgroupfs");
    assert.equal(k!.failSwapOn, false);
  });

  it("names the skipped phases in the notice the lab prints", () => {
    for (const p of SKIPPED_PHASES) assert.ok(SKIPPED_PHASES_NOTICE.includes(p), p);
  });

  it("ignores only the preflight checks it explains", () => {
    for (const c of [...INIT_IGNORED, ...JOIN_IGNORED]) assert.ok(IGNORED_PREFLIGHT[c].length > 0, c);
  });

  it("lists every bad input at once, never the token's text", async () => {
    const text = refusal(() =>
      initConfiguration({
        ...init,
        clusterName: "Lab_1",
        kubernetesVersion: "1.34",
        nodeName: "Master",
        address: "192.168.19.300",
        labels: { "node-role.kubernetes.io/worker": "", "bad key": "x" },
        taints: [{ key: "dedicated", value: "lab", effect: "NoWay" as "NoSchedule" }],
        podCidr: "10.244.0.0",
        serviceCidr: "10.96.0.0/40",
        etcdEndpoints: ["https://192.168.19.165:2379", "http://etcd:2379"],
        bootstrapToken: "ABCDEF.secret-secret-secret",
      }),
    );
    assert.ok(!text.includes("secret-secret"));
    await assertGolden("kubernetes/init-bad-inputs.txt", text);
  });
});

describe("kubeadm join configuration", () => {
  it("is pinned, with the CA pinned by its hash and the labels set by kubelet", async () => {
    await assertGolden("kubernetes/join-worker-1.yaml", joinConfiguration(join1));
    const [j] = docsOf(joinConfiguration(join1));
    assert.deepEqual(j!.discovery.bootstrapToken.caCertHashes, [HASH]);
    assert.deepEqual(j!.nodeRegistration.kubeletExtraArgs, [
      { name: "node-ip", value: "192.168.19.166" },
      { name: "housekeeping-interval", value: "1m0s" },
      { name: "node-labels", value: "worker=no-1" },
    ]);
    assert.deepEqual(j!.nodeRegistration.taints, []);
  });

  it("skips CA verification only when asked to", () => {
    const [j] = docsOf(joinConfiguration({ ...join1, ca: { unsafeSkipCAVerification: true } }));
    assert.equal(j!.discovery.bootstrapToken.unsafeSkipCAVerification, true);
    assert.equal(j!.discovery.bootstrapToken.caCertHashes, undefined);
  });

  it("refuses a bad endpoint, token and hash", async () => {
    const text = refusal(() =>
      joinConfiguration({
        ...join1,
        apiServerEndpoint: "master:6443",
        bootstrapToken: "x",
        ca: { certHash: "md5:00" },
      }),
    );
    await assertGolden("kubernetes/join-bad-inputs.txt", text);
  });
});

// The real kubeadm, when scripts/setup has built it: what it accepts is the test.
const KUBEADM = join(REPO_ROOT, ".tools", "k8s", "bin", "kubeadm");
const noKubeadm = existsSync(KUBEADM)
  ? false
  : `no ${KUBEADM}: scripts/setup builds it (Kubernetes ${KUBERNETES_VERSION}); the golden files still pin the text`;

describe("kubeadm config validate", { skip: noKubeadm }, () => {
  const validate = (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), "kubeadm-config-"));
    try {
      const file = join(dir, "kubeadm.yaml");
      writeFileSync(file, text);
      return execFileSync(KUBEADM, ["config", "validate", "--config", file], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 60_000,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  it("accepts the init configuration", () => {
    assert.match(validate(initConfiguration(init)), /ok/i);
  });
  it("accepts the join configuration", () => {
    assert.match(validate(joinConfiguration(join1)), /ok/i);
  });
  it("is strict: a misspelled field is refused (so the two above prove something)", () => {
    assert.throws(
      () => validate(joinConfiguration(join1).replace("timeouts:", "timeoutz:")),
      /unknown field/,
    );
  });
  it("has the phases the lab skips", () => {
    const help = execFileSync(KUBEADM, ["init", "--help"], { encoding: "utf8", timeout: 60_000 });
    for (const phase of SKIPPED_PHASES) {
      const [group, sub] = phase.split("/");
      assert.match(help, new RegExp(`^${group}\\s[\\s\\S]*?^\\s+/${sub}\\s`, "m"), phase);
    }
  });
  it("needs exactly the control-plane images the lab builds, besides the skipped addons'", () => {
    const dir = mkdtempSync(join(tmpdir(), "kubeadm-images-"));
    try {
      const file = join(dir, "kubeadm.yaml");
      writeFileSync(file, initConfiguration(init));
      const listed = execFileSync(KUBEADM, ["config", "images", "list", "--config", file], {
        encoding: "utf8",
        timeout: 60_000,
      })
        .split("\n")
        .filter((l) => l !== "" && !/\/(kube-proxy|coredns\/coredns):/.test(l));
      assert.deepEqual(listed.sort(), kubeadmImages().sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
