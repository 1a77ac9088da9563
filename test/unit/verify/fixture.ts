// The datastore of a real bgp lab (vf-bgp: 3 hosts, 4 pods, read with the lab's datastore reader) and its
// kernel route tables, and variants of it in the other modes: what the rules and their tests start from.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { KeyValue } from "../../../src/verify/datastore-facts.ts";

const DIR = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
export const fixture = (name: string) => readFileSync(join(DIR, name), "utf8");

export const BGP_KVS: KeyValue[] = (JSON.parse(fixture("bgp-datastore.json")) as { kvs: KeyValue[] }).kvs;
export const HOSTS = ["master", "worker-1", "worker-2"] as const;
/** `ip route show` on each host of that lab. */
export const BGP_ROUTES: Record<string, string[]> = Object.fromEntries(
  HOSTS.map((h) => [
    h,
    fixture(`bgp-routes-${h}.txt`)
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean),
  ]),
);

export interface Variant {
  ipipMode?: string;
  vxlanMode?: string;
  /** Per node: a new bgp.ipv4Address (another subnet). */
  addresses?: Record<string, string>;
  ipipTunnels?: boolean;
  vxlanTunnels?: boolean;
}

const TUNNEL: Record<string, string> = {
  master: "10.244.0.1",
  "worker-1": "10.244.139.66",
  "worker-2": "10.244.93.2",
};

/** The same datastore with the pool's modes and the nodes' addresses changed (JSON edited, keys kept). */
export function variantKvs(v: Variant): KeyValue[] {
  return BGP_KVS.map((kv) => {
    const j = JSON.parse(kv.value) as {
      metadata?: { name?: string };
      spec?: Record<string, unknown> & { bgp?: Record<string, unknown> };
    };
    if (kv.key.includes("/ippools/")) {
      if (v.ipipMode) j.spec!.ipipMode = v.ipipMode;
      if (v.vxlanMode) j.spec!.vxlanMode = v.vxlanMode;
    } else if (kv.key.includes("/nodes/")) {
      const name = j.metadata!.name!;
      if (v.addresses?.[name]) j.spec!.bgp!.ipv4Address = v.addresses[name];
      if (v.ipipTunnels) j.spec!.bgp!.ipv4IPIPTunnelAddr = TUNNEL[name];
      if (v.vxlanTunnels) j.spec!.ipv4VXLANTunnelAddr = TUNNEL[name];
    } else return kv;
    return { key: kv.key, value: JSON.stringify(j) };
  });
}
