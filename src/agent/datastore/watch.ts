// Watching the datastore: an etcd watch on a prefix, its bursts of events folded into one debounced
// callback. The watch reconnects by itself (etcd3 resumes from the last revision); errors are reported,
// and the caller keeps a periodic resync as a backstop.
import type { Datastore } from "./etcd.ts";
import { debounce } from "../debounce.ts";

export interface PrefixWatch {
  close(): Promise<void>;
}

export interface WatchOptions {
  /** Quiet time after the last event before `onChange` runs (ms). */
  debounceMs?: number;
  /**
   * Events for which this returns false are dropped (value: null for a delete; modRevision: the
   * revision of the change). Default: keep all.
   */
  relevant?: (key: string, value: string | null, modRevision: string) => boolean;
  /** The watch reconnected: events may have been missed (compacted away) meanwhile. */
  onReconnect?: () => void;
  onError?: (e: Error) => void;
}

export async function watchPrefix(
  ds: Datastore,
  prefix: string,
  onChange: (keys: string[]) => void,
  opts: WatchOptions = {},
): Promise<PrefixWatch> {
  let pending = new Set<string>();
  const fire = debounce(() => {
    const keys = [...pending];
    pending = new Set();
    onChange(keys);
  }, opts.debounceMs ?? 75);
  const bump = (key: string) => {
    pending.add(key);
    fire.bump();
  };
  const watcher = await ds.client.watch().prefix(prefix).create();
  const keep = opts.relevant ?? (() => true);
  watcher.on("put", (kv) => {
    const key = kv.key.toString();
    if (keep(key, kv.value.toString(), kv.mod_revision)) bump(key);
  });
  watcher.on("delete", (kv) => {
    const key = kv.key.toString();
    if (keep(key, null, kv.mod_revision)) bump(key);
  });
  watcher.on("error", (e) => opts.onError?.(e));
  watcher.on("disconnected", (e: Error) =>
    opts.onError?.(new Error(`disconnected (${e.message}); reconnecting`)),
  );
  // After a reconnect events may have been compacted away: treat it as "something changed".
  watcher.on("connected", () => {
    opts.onReconnect?.();
    bump(prefix);
  });
  return {
    async close() {
      fire.cancel();
      await watcher.cancel();
    },
  };
}
