import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { PACKAGES } from "../../../../src/vm/kubeadm/packages.ts";
import { PROBE_OPT_IN, SKIP_NOTICE, preflight, probeFromEnv } from "../../../../src/vm/kubeadm/preflight.ts";
import type { Probe } from "../../../../src/vm/kubeadm/preflight.ts";
import { initConfig, initScript, installScript, joinScript } from "../../../../src/vm/kubeadm/scripts.ts";
import { PROJECT_ROOT } from "../../../../src/vm/runner.ts";
import { assertGolden } from "../../../support/golden.ts";

const init = {
  nodeName: "master",
  advertiseAddress: "192.168.19.165",
  podCidr: "10.244.0.0/16",
  token: "abcdef.0123456789abcdef",
};
const join1 = {
  endpoint: "192.168.19.165:6443",
  token: "abcdef.0123456789abcdef",
  caCertHash: `sha256:${"0f".repeat(32)}`,
  nodeName: "worker-1",
};

const bashSyntaxOk = (s: string) => spawnSync("bash", ["-n"], { input: s, encoding: "utf8" });

describe("kubeadm: generated scripts and config", () => {
  it("install script pins every package and matches its golden file", async () => {
    const s = installScript();
    for (const p of PACKAGES) assert.ok(s.includes(`'${p.name}=${p.version}'`), p.name);
    assert.match(
      s,
      /deb \[signed-by=\/etc\/apt\/keyrings\/kubernetes-apt-keyring\.gpg\] https:\/\/pkgs\.k8s\.io\/core:\/stable:\/v1\.31\/deb\/ \//,
    );
    assert.equal(bashSyntaxOk(s).status, 0);
    await assertGolden("vm/kubeadm-install.sh", s);
  });

  it("init config carries the pod CIDR, the node's address and cgroupfs", async () => {
    const text = initConfig(init);
    const docs = parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown>);
    assert.deepEqual(
      docs.map((d) => d.kind),
      ["InitConfiguration", "ClusterConfiguration", "KubeletConfiguration"],
    );
    const cluster = docs[1] as { networking: { podSubnet: string }; kubernetesVersion: string };
    assert.equal(cluster.networking.podSubnet, "10.244.0.0/16");
    assert.equal(cluster.kubernetesVersion, "v1.31.4");
    await assertGolden("vm/kubeadm-init-config.yaml", text);
  });

  it("init and join scripts match their golden files and parse", async () => {
    const i = initScript("/etc/calico-lab/kubeadm.yaml", "/work/main/.lab/calico.yaml");
    const j = joinScript(join1);
    assert.equal(bashSyntaxOk(i).status, 0);
    assert.equal(bashSyntaxOk(j).status, 0);
    await assertGolden("vm/kubeadm-init.sh", i);
    await assertGolden("vm/kubeadm-join.sh", j);
  });

  it("refuses inputs that do not look right", () => {
    assert.throws(() => initConfig({ ...init, podCidr: "10.244.0.0" }), /pod CIDR/);
    assert.throws(() => initConfig({ ...init, token: "short" }), /token/);
    assert.throws(() => initConfig({ ...init, nodeName: "Master_1" }), /node name/);
    assert.throws(() => joinScript({ ...join1, caCertHash: "md5:x" }), /CA cert hash/);
    assert.throws(() => joinScript({ ...join1, endpoint: "$(reboot)" }), /endpoint/);
  });

  it("docs/vm.md lists exactly the pinned packages", () => {
    const doc = readFileSync(join(PROJECT_ROOT, "docs", "vm.md"), "utf8");
    for (const p of PACKAGES)
      assert.ok(doc.includes(`| ${p.name} | ${p.version} |`), `${p.name} ${p.version} in docs/vm.md`);
  });
});

describe("kubeadm: preflight", () => {
  it("touches no network unless opted in, and says plainly that it skipped", async () => {
    assert.equal(probeFromEnv({}), undefined);
    assert.equal(probeFromEnv({ [PROBE_OPT_IN]: "0" }), undefined);
    assert.notEqual(probeFromEnv({ [PROBE_OPT_IN]: "1" }), undefined);
    const r = await preflight(undefined);
    assert.equal(r.reachable, false);
    assert.ok(r.notice?.startsWith(SKIP_NOTICE), r.notice);
    assert.match(r.notice ?? "", /did not run/);
  });

  it("is reachable only when every repository answers (fake probe)", async () => {
    const asked: string[] = [];
    const all: Probe = async (url) => (asked.push(url), true);
    const ok = await preflight(all, ["https://a.example/", "https://b.example/"]);
    assert.deepEqual(ok, {
      reachable: true,
      details: [
        { url: "https://a.example/", ok: true },
        { url: "https://b.example/", ok: true },
      ],
    });
    assert.deepEqual(asked, ["https://a.example/", "https://b.example/"]);

    const half: Probe = async (url) => url.includes("a.");
    const r = await preflight(half, ["https://a.example/", "https://b.example/"], 50);
    assert.equal(r.reachable, false);
    assert.equal(r.notice, `${SKIP_NOTICE} (https://b.example/); the kubeadm part did not run`);

    const throws: Probe = async () => {
      throw new Error("boom");
    };
    assert.equal((await preflight(throws, ["https://a.example/"])).reachable, false);
  });
});
