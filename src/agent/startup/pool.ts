// IP pools: the default pool from CALICO_IPV4POOL_* (created only when no pool exists, Calico's rule),
// and which pools a node may use (nodeSelector).
import {
  resourceKey,
  resourcePrefix,
  newResource,
  type EncapMode,
  type IPPool,
  type CalicoNode,
} from "../datastore/keys.ts";
import type { Datastore } from "../datastore/etcd.ts";
import { parseCidr } from "../ipam/block.ts";
import type { PoolRef } from "../ipam/allocator.ts";
import { parseSelector } from "../confd/selector.ts";

export const DEFAULT_POOL_NAME = "default-ipv4-ippool";

export interface DefaultPoolSettings {
  /** CALICO_IPV4POOL_CIDR */
  cidr: string;
  /** CALICO_IPV4POOL_BLOCK_SIZE (default 26) */
  blockSize?: number;
  /** CALICO_IPV4POOL_IPIP (default Always) */
  ipipMode?: EncapMode;
  /** CALICO_IPV4POOL_VXLAN (default Never) */
  vxlanMode?: EncapMode;
  /** CALICO_IPV4POOL_NAT_OUTGOING (default true) */
  natOutgoing?: boolean;
  /** CALICO_IPV4POOL_NODE_SELECTOR (default all()) */
  nodeSelector?: string;
}

export function defaultPool(s: DefaultPoolSettings): IPPool {
  const blockSize = s.blockSize ?? 26;
  const pool = parseCidr(s.cidr);
  if (blockSize < pool.prefix || blockSize > 32)
    throw new Error(`block size /${blockSize} does not fit pool ${s.cidr}`);
  const ipipMode = s.ipipMode ?? "Always";
  const vxlanMode = s.vxlanMode ?? "Never";
  if (ipipMode !== "Never" && vxlanMode !== "Never") throw new Error("a pool cannot use both IPIP and VXLAN");
  return newResource(
    "IPPool",
    { name: DEFAULT_POOL_NAME },
    {
      cidr: s.cidr,
      ipipMode,
      vxlanMode,
      natOutgoing: s.natOutgoing ?? true,
      blockSize,
      nodeSelector: s.nodeSelector ?? "all()",
      allowedUses: ["Workload", "Tunnel"],
    },
  );
}

export async function listPools(ds: Datastore): Promise<IPPool[]> {
  return (await ds.listJson<IPPool>(resourcePrefix("ippools"))).map((kv) => kv.value);
}

/**
 * Creates the default pool only when the datastore has no pool at all. An existing pool is never
 * changed by later CALICO_IPV4POOL_* settings (as in Calico): change it with calicoctl instead.
 */
export async function ensureDefaultPool(
  ds: Datastore,
  s: DefaultPoolSettings,
  log: (msg: string) => void = console.log,
): Promise<{ created: boolean; pools: IPPool[] }> {
  const wanted = defaultPool(s);
  const existing = await ds.withRetry("list pools", () => listPools(ds));
  if (existing.length > 0) {
    const differs = existing.every(
      (p) =>
        p.spec.cidr !== wanted.spec.cidr ||
        p.spec.ipipMode !== wanted.spec.ipipMode ||
        p.spec.vxlanMode !== wanted.spec.vxlanMode ||
        p.spec.blockSize !== wanted.spec.blockSize,
    );
    log(
      `IP pool(s) already exist (${existing.map((p) => `${p.metadata.name} ${p.spec.cidr}`).join(", ")}): not creating ${DEFAULT_POOL_NAME}.` +
        (differs
          ? ` Note: CALICO_IPV4POOL_* (${s.cidr}) differs and does NOT alter an existing pool; edit the pool instead.`
          : ""),
    );
    return { created: false, pools: existing };
  }
  const pool: IPPool = {
    ...wanted,
    metadata: { ...wanted.metadata, creationTimestamp: new Date().toISOString() },
  };
  const created = await ds.withRetry("create pool", () =>
    ds.cas([{ key: resourceKey("ippools", DEFAULT_POOL_NAME), value: JSON.stringify(pool), rev: "0" }]),
  );
  if (created)
    log(
      `created IP pool ${DEFAULT_POOL_NAME} ${s.cidr} (ipip ${pool.spec.ipipMode}, vxlan ${pool.spec.vxlanMode}, /${pool.spec.blockSize} blocks)`,
    );
  return { created, pools: await listPools(ds) };
}

/** Whether a pool's nodeSelector selects these labels (Calico's selector language, confd/selector.ts). */
export function selectorMatches(selector: string, labels: Record<string, string>): boolean {
  return parseSelector(selector || "all()")(labels);
}

/** Enabled pools whose nodeSelector selects the node, as IPAM pool references. */
export async function poolsForNode(
  ds: Datastore,
  nodeName: string,
): Promise<{ pools: IPPool[]; refs: PoolRef[] }> {
  const node = await ds.getJson<CalicoNode>(resourceKey("nodes", nodeName));
  const labels = node?.value.metadata.labels ?? {};
  const pools = (await listPools(ds)).filter(
    (p) => !p.spec.disabled && selectorMatches(p.spec.nodeSelector, labels),
  );
  return { pools, refs: pools.map((p) => ({ cidr: p.spec.cidr, blockSize: p.spec.blockSize })) };
}
