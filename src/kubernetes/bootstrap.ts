// The secrets kubeadm's join needs, made without kubeadm: a bootstrap token (generated here, so init and
// join configurations can both be written before the master runs anything) and the hash a joining node
// pins the cluster CA with. Pure: randomness is passed in.
import { createHash, X509Certificate } from "node:crypto";

/** kubeadm's bootstrap token: a public id of 6 and a secret of 16 lower-case letters and digits. */
export const BOOTSTRAP_TOKEN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
/** `sha256:` and the hex SHA-256 of the CA's SubjectPublicKeyInfo (DER), as `kubeadm join` takes it. */
export const CA_CERT_HASH = /^sha256:[0-9a-f]{64}$/;

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
/** Bytes at or above this are dropped, so every character is equally likely (252 = 7 × 36). */
const UNBIASED_BELOW = 256 - (256 % ALPHABET.length);

/** Random bytes: `(n) => crypto.randomBytes(n)` in the program, a fixed sequence in tests. */
export type RandomBytes = (n: number) => Uint8Array;

/** A fresh bootstrap token, "abcdef.0123456789abcdef". */
export function bootstrapToken(random: RandomBytes): string {
  const chars: string[] = [];
  // A byte is kept with probability 252/256, so a few rounds always suffice; the bound only stops a
  // broken source (one that returns nothing usable) from looping forever.
  for (let round = 0; chars.length < 22 && round < 64; round++) {
    for (const b of random(32)) {
      if (b >= UNBIASED_BELOW) continue;
      chars.push(ALPHABET[b % ALPHABET.length]!);
      if (chars.length === 22) break;
    }
  }
  if (chars.length < 22) throw new Error("bootstrapToken: the random source gave too few usable bytes");
  return `${chars.slice(0, 6).join("")}.${chars.slice(6).join("")}`;
}

/**
 * The `--discovery-token-ca-cert-hash` of a CA certificate (PEM): SHA-256 over its public key's
 * SubjectPublicKeyInfo in DER, the value kubeadm prints after init.
 */
export function caCertHash(pemCert: string): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pemCert);
  } catch (e) {
    throw new Error(`caCertHash: not a PEM certificate (${(e as Error).message})`);
  }
  const spki = cert.publicKey.export({ type: "spki", format: "der" });
  return `sha256:${createHash("sha256").update(spki).digest("hex")}`;
}
