// The one place src/manifest touches the filesystem: the lab's templates, read by path.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { DatastoreType } from "./variant.ts";

export const TEMPLATES_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "templates");

/** templates/calico-etcd.yaml (the lab's default) or templates/calico.yaml (Kubernetes datastore). */
export function templatePath(datastore: DatastoreType = "etcdv3"): string {
  return join(TEMPLATES_DIR, datastore === "etcdv3" ? "calico-etcd.yaml" : "calico.yaml");
}

export function loadTemplate(datastore: DatastoreType = "etcdv3"): string {
  return readFileSync(templatePath(datastore), "utf8");
}
