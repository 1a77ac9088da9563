// Bootstrap tokens and the CA pin of kubeadm join, checked against a real certificate made by openssl
// and the hash openssl computes the way kubeadm's documentation does it.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { BOOTSTRAP_TOKEN, bootstrapToken, caCertHash } from "../../../src/kubernetes/bootstrap.ts";

function openssl(args: string[], input?: Buffer): Buffer {
  return execFileSync("openssl", args, { input, stdio: ["pipe", "pipe", "pipe"] });
}
let opensslMissing: string | false = false;
try {
  openssl(["version"]);
} catch {
  opensslMissing = "openssl is not installed here (it makes the test's CA certificate)";
}

describe("bootstrapToken", () => {
  it("has kubeadm's shape, from real randomness", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const t = bootstrapToken(randomBytes);
      assert.match(t, BOOTSTRAP_TOKEN);
      seen.add(t);
    }
    assert.equal(seen.size, 200);
  });

  it("maps bytes to characters without bias: bytes 252..255 are dropped", () => {
    let calls = 0;
    // First call: only unusable bytes; then 0, 1, 2, ... so the token is the alphabet in order.
    const random = (n: number) => {
      calls++;
      return calls === 1 ? new Uint8Array(n).fill(255) : Uint8Array.from({ length: n }, (_, i) => i);
    };
    assert.equal(bootstrapToken(random), "abcdef.ghijklmnopqrstuv");
    assert.equal(calls, 2);
  });

  it("refuses a random source that yields nothing usable", () => {
    assert.throws(() => bootstrapToken((n) => new Uint8Array(n).fill(252)), /too few usable bytes/);
  });
});

describe("caCertHash", { skip: opensslMissing }, () => {
  it("is sha256 of the CA's SubjectPublicKeyInfo, as openssl computes it", () => {
    const dir = mkdtempSync(join(tmpdir(), "ca-hash-"));
    try {
      const crt = join(dir, "ca.crt");
      openssl([
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        join(dir, "ca.key"),
        "-out",
        crt,
        "-subj",
        "/CN=kubernetes",
        "-days",
        "1",
      ]);
      const pem = readFileSync(crt, "utf8");
      const pub = openssl(["x509", "-pubkey", "-noout", "-in", crt]);
      const der = openssl(["pkey", "-pubin", "-outform", "der"], pub);
      const want = openssl(["dgst", "-sha256", "-hex"], der).toString().trim().split(/\s+/).at(-1)!;
      assert.equal(caCertHash(pem), `sha256:${want}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses text that is not a certificate", () => {
    assert.throws(
      () => caCertHash("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"),
      /not a PEM certificate/,
    );
  });
});
