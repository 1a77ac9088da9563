// `calicoctl apply` / `calicoctl delete` for the lab: resources written at Calico's keys (create or
// replace, keeping the stored creationTimestamp and uid), and a YAML/JSON reader for manifests of them.
import { randomUUID } from "node:crypto";
import { parseAllDocuments } from "yaml";
import type { Datastore } from "./etcd.ts";
import { resourceKey, type ResourcePlural } from "./keys.ts";

/** The kinds `applyResources` writes, and where. */
export const KIND_PLURALS: Readonly<Record<string, ResourcePlural>> = {
  Node: "nodes",
  IPPool: "ippools",
  BGPConfiguration: "bgpconfigurations",
  BGPPeer: "bgppeers",
  FelixConfiguration: "felixconfigurations",
};

export interface AnyResource {
  kind: string;
  apiVersion?: string;
  metadata: { name: string; labels?: Record<string, string>; [k: string]: unknown };
  spec?: Record<string, unknown>;
}

function checked(r: unknown): AnyResource {
  const o = r as Partial<AnyResource> | null;
  if (!o || typeof o !== "object") throw new Error("a resource must be a mapping");
  if (typeof o.kind !== "string" || !(o.kind in KIND_PLURALS)) {
    throw new Error(
      `unsupported kind ${JSON.stringify(o.kind)} (supported: ${Object.keys(KIND_PLURALS).join(", ")})`,
    );
  }
  if (o.apiVersion !== undefined && o.apiVersion !== "projectcalico.org/v3") {
    throw new Error(
      `${o.kind}: apiVersion must be projectcalico.org/v3, got ${JSON.stringify(o.apiVersion)}`,
    );
  }
  if (!o.metadata || typeof o.metadata.name !== "string")
    throw new Error(`${o.kind}: metadata.name is required`);
  return o as AnyResource;
}

export function keyFor(r: AnyResource): string {
  return resourceKey(KIND_PLURALS[checked(r).kind]!, r.metadata.name);
}

/** Every resource in a YAML (or JSON) text: several documents, and `kind: List` with `items`. */
export function parseResources(text: string): AnyResource[] {
  const out: AnyResource[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0]!.message}`);
    const v = doc.toJS() as unknown;
    if (v === null || v === undefined) continue;
    const items = (v as { kind?: string; items?: unknown[] }).kind?.endsWith("List")
      ? ((v as { items?: unknown[] }).items ?? [])
      : [v];
    for (const item of items) out.push(checked(item));
  }
  return out;
}

/** Writes each resource at its key (create or replace), in order. Returns the keys written. */
export async function applyResources(ds: Datastore, resources: readonly AnyResource[]): Promise<string[]> {
  const keys: string[] = [];
  for (const r0 of resources) {
    const r = checked(r0);
    const key = keyFor(r);
    await ds.withRetry(`apply ${r.kind} ${r.metadata.name}`, async () => {
      for (;;) {
        const cur = await ds.getJson<AnyResource>(key);
        const meta = {
          ...r.metadata,
          uid: cur?.value.metadata.uid ?? r.metadata.uid ?? randomUUID(),
          creationTimestamp:
            cur?.value.metadata.creationTimestamp ?? r.metadata.creationTimestamp ?? new Date().toISOString(),
        };
        const value = {
          kind: r.kind,
          apiVersion: "projectcalico.org/v3",
          metadata: meta,
          spec: r.spec ?? {},
        };
        if (await ds.cas([{ key, value: JSON.stringify(value), rev: cur ? cur.rev : "0" }])) return;
      }
    });
    keys.push(key);
  }
  return keys;
}

/** Deletes each resource's key; absent ones are fine. Returns the keys that existed. */
export async function deleteResources(
  ds: Datastore,
  resources: readonly Pick<AnyResource, "kind" | "metadata">[],
): Promise<string[]> {
  const gone: string[] = [];
  for (const r of resources) {
    const key = keyFor(r as AnyResource);
    const res = await ds.withRetry(`delete ${r.kind} ${r.metadata.name}`, () =>
      ds.client.delete().key(key).exec(),
    );
    if (Number(res.deleted) > 0) gone.push(key);
  }
  return gone;
}
