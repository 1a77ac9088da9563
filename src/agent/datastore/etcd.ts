// The datastore client: etcd v3 through the `etcd3` package, with the few operations Calico's
// etcdv3 backend needs: get with revision, list a prefix, and compare-and-swap writes in one transaction.
import { readFileSync } from "node:fs";
import { Etcd3, isRecoverableError } from "etcd3";
import type { IOptions } from "etcd3";

export interface EtcdTls {
  caFile: string;
  certFile?: string;
  keyFile?: string;
}

export interface DatastoreOptions {
  endpoints: string[];
  tls?: EtcdTls;
  /** Give up on one attempt after this long (ms). */
  dialTimeoutMs?: number;
  /** How long a retried operation keeps trying through connection errors (ms). */
  retryDeadlineMs?: number;
}

export interface KV {
  key: string;
  value: string;
  /** etcd mod_revision: the CAS token. */
  rev: string;
}

/** A put in a transaction: `rev` "0" means "only if absent"; a revision means "only if unchanged". */
export interface CasPut {
  key: string;
  value: string;
  rev: string;
}
export interface CasDelete {
  key: string;
  rev: string;
  delete: true;
}
export type CasOp = CasPut | CasDelete;

const ENDPOINT = /^https?:\/\/[A-Za-z0-9.-]+:\d{1,5}$/;

/** Pass-through fault policy: we retry ourselves (bounded), so the client's circuit breaker stays out of the way. */
const passThrough = {
  execute: <T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T) =>
    Promise.resolve().then(() => fn({ signal: new AbortController().signal })),
  onSuccess: () => ({ dispose() {} }),
  onFailure: () => ({ dispose() {} }),
} as unknown as NonNullable<NonNullable<IOptions["faultHandling"]>["global"]>;

/** Errors that mean "etcd not reachable right now", worth retrying. */
export function isTransientError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (isRecoverableError(e)) return true;
  const text = `${e.name} ${e.message}`;
  return /Unavailable|BrokenCircuit|ECONNREFUSED|ECONNRESET|No connection established|DeadlineExceeded|deadline exceeded|Connection dropped|Cancelled|GRPCConnectFailed|leader changed|too many requests/i.test(
    text,
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * How soon a broken watch stream tries again: 100 ms doubling to 1 s. etcd3's default (cockatiel's
 * exponential backoff) waits up to 30 s, so after etcd was down for a while an agent stayed "unready",
 * blind to the datastore, for up to half a minute after etcd answered again.
 */
export function watchBackoff(durationMs = 100): {
  readonly duration: number;
  next(): ReturnType<typeof watchBackoff>;
} {
  return { duration: durationMs, next: () => watchBackoff(Math.min(durationMs * 2, 1000)) };
}

export class Datastore {
  readonly client: Etcd3;
  readonly retryDeadlineMs: number;

  constructor(readonly options: DatastoreOptions) {
    if (options.endpoints.length === 0) throw new Error("no etcd endpoints");
    for (const e of options.endpoints) {
      if (!ENDPOINT.test(e)) throw new Error(`invalid etcd endpoint "${e}" (want http(s)://host:port)`);
    }
    const opts: IOptions = {
      hosts: options.endpoints,
      dialTimeout: options.dialTimeoutMs ?? 2000,
      faultHandling: { host: () => passThrough, global: passThrough, watchBackoff: watchBackoff() },
      // A deadline for each call, but none for streams: with one, every watch ended after 5 s
      // (DEADLINE_EXCEEDED), reconnected, and woke its agent for a pass, every 5 s on every host.
      defaultCallOptions: (context) =>
        context.isStream ? {} : { deadline: Date.now() + (options.dialTimeoutMs ?? 5000) },
    };
    if (options.tls) {
      opts.credentials = {
        rootCertificate: readFileSync(options.tls.caFile),
        ...(options.tls.certFile ? { certChain: readFileSync(options.tls.certFile) } : {}),
        ...(options.tls.keyFile ? { privateKey: readFileSync(options.tls.keyFile) } : {}),
      };
    }
    this.client = new Etcd3(opts);
    this.retryDeadlineMs = options.retryDeadlineMs ?? 30_000;
  }

  close(): void {
    this.client.close();
  }

  /** Runs `fn`, retrying through connection errors with backoff until the deadline. */
  async withRetry<T>(what: string, fn: () => Promise<T>, deadlineMs = this.retryDeadlineMs): Promise<T> {
    const until = Date.now() + deadlineMs;
    let delay = 50;
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        if (!isTransientError(e) || Date.now() + delay > until) {
          if (isTransientError(e))
            throw new Error(`${what}: etcd unreachable for ${deadlineMs} ms: ${String(e)}`);
          throw e;
        }
        await sleep(delay + Math.random() * delay);
        delay = Math.min(delay * 2, 1000);
      }
    }
  }

  async get(key: string): Promise<KV | null> {
    const res = await this.client.get(key).exec();
    const kv = res.kvs[0];
    if (!kv) return null;
    return { key: kv.key.toString(), value: kv.value.toString(), rev: kv.mod_revision };
  }

  async getJson<T>(key: string): Promise<{ value: T; rev: string } | null> {
    const kv = await this.get(key);
    return kv ? { value: JSON.parse(kv.value) as T, rev: kv.rev } : null;
  }

  async list(prefix: string): Promise<KV[]> {
    const res = await this.client.getAll().prefix(prefix).exec();
    return res.kvs
      .map((kv) => ({ key: kv.key.toString(), value: kv.value.toString(), rev: kv.mod_revision }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async listJson<T>(prefix: string): Promise<{ key: string; value: T; rev: string }[]> {
    return (await this.list(prefix)).map((kv) => ({
      key: kv.key,
      value: JSON.parse(kv.value) as T,
      rev: kv.rev,
    }));
  }

  /**
   * One etcd transaction: every op's key must still be at its revision ("0": absent); then all
   * puts/deletes happen together. Returns false when any compare failed (someone else wrote first).
   */
  async cas(ops: CasOp[]): Promise<boolean> {
    const [first, ...rest] = ops;
    if (!first) return true;
    const target = (op: CasOp) => (op.rev === "0" ? "Create" : "Mod");
    const value = (op: CasOp) => (op.rev === "0" ? 0 : op.rev);
    let txn = this.client.if(first.key, target(first), "==", value(first));
    for (const op of rest) txn = txn.and(op.key, target(op), "==", value(op));
    txn = txn.then(
      ...ops.map((op) =>
        "delete" in op ? this.client.delete().key(op.key) : this.client.put(op.key).value(op.value),
      ),
    );
    const res = await txn.commit();
    return res.succeeded;
  }

  /** Unconditional delete of a whole prefix (used by tests and lab teardown). */
  async deletePrefix(prefix: string): Promise<void> {
    await this.client.delete().prefix(prefix).exec();
  }
}
