// One Kubernetes version: the constant the configuration writes, package.json's toolchain pin that
// scripts/setup builds, any version a script names, and the kubeadm binary itself when it is built.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  CRICTL_VERSION,
  KUBERNETES_VERSION,
  KUBERNETES_VERSION_PATTERN,
} from "../../../src/kubernetes/version.ts";
import { REPO_ROOT } from "../../support/pulumi-env.ts";

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
  toolchain: { kubernetes?: { version?: string; crictl?: string; etcd?: string; debianPackages?: string[] } };
};

function scriptFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? scriptFiles(p) : [p];
  });
}

describe("the Kubernetes version", () => {
  it("is a release kubeadm takes", () => {
    assert.match(KUBERNETES_VERSION, KUBERNETES_VERSION_PATTERN);
  });

  it("is package.json's toolchain pin, crictl too", () => {
    const { version, crictl } = pkg.toolchain.kubernetes ?? {};
    assert.deepEqual({ version, crictl }, { version: KUBERNETES_VERSION, crictl: CRICTL_VERSION });
  });

  it("is the only Kubernetes version a script names", () => {
    const named = /(?:k8s\.io\/kubernetes[ @]|KUBERNETES_VERSION=["']?)(v\d+\.\d+\.\d+)/g;
    for (const f of scriptFiles(join(REPO_ROOT, "scripts"))) {
      for (const m of readFileSync(f, "utf8").matchAll(named))
        assert.equal(m[1], KUBERNETES_VERSION, `${f} names Kubernetes ${m[1]}`);
    }
  });

  const kubeadm = join(REPO_ROOT, ".tools", "k8s", "bin", "kubeadm");
  it(
    "is what the built kubeadm was stamped with",
    { skip: existsSync(kubeadm) ? false : `no ${kubeadm} (scripts/setup builds it)` },
    () => {
      const v = execFileSync(kubeadm, ["version", "-o", "short"], {
        encoding: "utf8",
        timeout: 60_000,
      }).trim();
      assert.equal(v, KUBERNETES_VERSION);
    },
  );
});
