// Watching the datastore: an etcd watch on a prefix, its bursts of events folded into one debounced
// callback. The watch reconnects by itself (etcd3 resumes from the last revision); errors are reported,
// and the caller keeps a periodic resync as a backstop.
import type { Datastore } from "./etcd.ts";

export interface PrefixWatch {
  close(): Promise<void>;
}

export interface WatchOptions {
  /** Quiet time after the last event before `onChange` runs (ms). */
  debounceMs?: number;
  onError?: (e: Error) => void;
}

export async function watchPrefix(
  ds: Datastore,
  prefix: string,
  onChange: (keys: string[]) => void,
  opts: WatchOptions = {},
): Promise<PrefixWatch> {
  const debounceMs = opts.debounceMs ?? 75;
  let timer: NodeJS.Timeout | null = null;
  let pending = new Set<string>();
  const fire = () => {
    timer = null;
    const keys = [...pending];
    pending = new Set();
    onChange(keys);
  };
  const bump = (key: string) => {
    pending.add(key);
    if (timer) clearTimeout(timer);
    timer = setTimeout(fire, debounceMs);
  };
  const watcher = await ds.client.watch().prefix(prefix).create();
  watcher.on("put", (kv) => bump(kv.key.toString()));
  watcher.on("delete", (kv) => bump(kv.key.toString()));
  watcher.on("error", (e) => opts.onError?.(e));
  // After a reconnect events may have been compacted away: treat it as "something changed".
  watcher.on("connected", () => bump(prefix));
  return {
    async close() {
      if (timer) clearTimeout(timer);
      timer = null;
      await watcher.cancel();
    },
  };
}
