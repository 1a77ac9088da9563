// Locates what the renderer and parser touch in a (multi-document) calico.yaml, through the yaml Document
// API: the calico-node DaemonSet, its calico-node container and env list, and the ConfigMaps env entries
// reference. Node ranges are offsets into the original text, which is how edits stay surgical.
import {
  isMap,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Document,
  type Scalar,
  type YAMLMap,
  type YAMLSeq,
} from "yaml";
import { helmSourceProblem } from "./helm.ts";
import { ManifestError, shown, type ManifestProblem } from "./problems.ts";

export const CALICO_NODE = "calico-node";
export const CALICO_CONFIG = "calico-config";

export interface ConfigMapRef {
  name: string;
  data: YAMLMap | undefined;
}

export interface EnvEntry {
  name: string;
  /** The list item (a map with `name` and `value` or `valueFrom`). */
  item: YAMLMap;
}

export interface CalicoNodeManifest {
  text: string;
  docs: Document.Parsed[];
  daemonSet: YAMLMap;
  container: YAMLMap;
  envSeq: YAMLSeq;
  env: EnvEntry[];
  configMaps: Map<string, ConfigMapRef>;
}

/** How an env entry gets its value. */
export type EnvRead =
  | { state: "absent" }
  | { state: "literal"; text: string; node: Scalar; entry: EnvEntry }
  | { state: "configMap"; configMap: string; key: string; node: Scalar | undefined; entry: EnvEntry }
  | { state: "other"; why: "valueFrom" | "not a string" | "no value"; entry: EnvEntry };

const str = (n: unknown): string | undefined =>
  isScalar(n) && typeof n.value === "string" ? n.value : undefined;

/** YAML syntax errors listed one by one, up to this many; the rest are counted in one line. */
const MAX_SYNTAX_PROBLEMS = 5;

/**
 * Parses every document and finds calico-node. A ManifestError when there is not exactly one calico-node
 * DaemonSet, when the YAML is invalid, or when the input is a Helm chart source.
 */
export function locateCalicoNode(text: string, subject = "manifest"): CalicoNodeManifest {
  const helm = helmSourceProblem(text);
  if (helm) throw new ManifestError(subject, [helm]);
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) {
    throw new ManifestError(subject, [
      {
        field: "(document)",
        value: "(empty)",
        message: "the input has no YAML documents",
        fix: "pass a calico.yaml",
      },
    ]);
  }
  const syntax: ManifestProblem[] = [];
  docs.forEach((d, i) => {
    for (const e of d.errors) {
      const [line, col] = e.linePos?.[0] ? [e.linePos[0].line, e.linePos[0].col] : [0, 0];
      syntax.push({
        field: `(document ${i + 1}, line ${line}:${col})`,
        value: shown(e.code),
        message: `not valid YAML: ${e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`,
        fix: "fix the YAML syntax (kubectl would reject this file too)",
      });
    }
  });
  if (syntax.length > MAX_SYNTAX_PROBLEMS) {
    const more = syntax.length - MAX_SYNTAX_PROBLEMS;
    syntax.splice(MAX_SYNTAX_PROBLEMS, more, {
      field: "(more YAML errors)",
      value: String(more),
      message: `${more} more syntax error${more === 1 ? "" : "s"} not listed`,
      fix: "fix the ones above first; later errors often follow from an earlier one",
    });
  }
  if (syntax.length > 0) throw new ManifestError(subject, syntax);

  const configMaps = new Map<string, ConfigMapRef>();
  const kinds: string[] = [];
  const daemonSets: { root: YAMLMap; where: string }[] = [];
  docs.forEach((doc, i) => {
    const root = doc.contents;
    if (!isMap(root)) return;
    const kind = str(root.get("kind", true));
    const name = str(doc.getIn(["metadata", "name"], true));
    if (kind) kinds.push(name ? `${kind}/${name}` : kind);
    if (kind === "ConfigMap" && name) {
      const data = root.get("data", true);
      configMaps.set(name, { name, data: isMap(data) ? (data as YAMLMap) : undefined });
    }
    if (kind === "DaemonSet" && (name === CALICO_NODE || hasCalicoNodeContainer(root as YAMLMap))) {
      const ns = str(doc.getIn(["metadata", "namespace"], true));
      daemonSets.push({
        root: root as YAMLMap,
        where: `${ns ? `${ns}/` : "(no namespace)/"}${name ?? "(no name)"} in document ${i + 1}`,
      });
    }
  });
  if (daemonSets.length > 1) {
    throw new ManifestError(subject, [
      {
        field: "DaemonSet/calico-node",
        value: `(${daemonSets.length} DaemonSets: ${daemonSets.map((d) => d.where).join(", ")})`,
        message:
          "the input has more than one calico-node DaemonSet; rendering would edit only one of them and the " +
          "agent would read only one",
        fix:
          "keep exactly one calico-node DaemonSet per input: split the file (one manifest per cluster) or " +
          "delete the extra DaemonSet, then render each file on its own",
      },
    ]);
  }
  const daemonSet = daemonSets[0]?.root;

  if (!daemonSet) {
    const operator = kinds.some((k) => k.startsWith("Installation") || k.includes("tigera-operator"));
    throw new ManifestError(subject, [
      {
        field: "DaemonSet/calico-node",
        value:
          kinds.length > 0
            ? `(${docs.length} documents: ${summarizeKinds(kinds)})`
            : "(no Kubernetes objects)",
        message: "the input has no calico-node DaemonSet, so there is nothing to render",
        fix: operator
          ? "this is a Tigera operator install: configure its Installation resource instead, or use the manifest (calico.yaml / calico-etcd.yaml) install"
          : "pass the full calico.yaml (or calico-etcd.yaml) that contains `kind: DaemonSet` named calico-node",
      },
    ]);
  }

  const containers = daemonSet.getIn(["spec", "template", "spec", "containers"], true);
  const container = isSeq(containers)
    ? (containers.items.find((c) => isMap(c) && str(c.get("name", true)) === CALICO_NODE) as
        YAMLMap | undefined)
    : undefined;
  if (!container) {
    throw new ManifestError(subject, [
      {
        field: "DaemonSet/calico-node containers",
        value: "(no container named calico-node)",
        message: "the DaemonSet has no calico-node container",
        fix: "restore the calico-node container under spec.template.spec.containers",
      },
    ]);
  }
  const envSeq = container.get("env", true);
  if (!isSeq(envSeq) || envSeq.flow) {
    throw new ManifestError(subject, [
      {
        field: "calico-node env",
        value: isSeq(envSeq) ? "(a flow sequence)" : "(missing)",
        message: "the calico-node container has no block-style env list",
        fix: "give the calico-node container an `env:` list of `- name: ... value: ...` entries",
      },
    ]);
  }
  const env: EnvEntry[] = [];
  for (const item of envSeq.items) {
    if (!isMap(item)) continue;
    const name = str(item.get("name", true));
    if (name) env.push({ name, item: item as YAMLMap });
  }
  return { text, docs, daemonSet, container, envSeq: envSeq as YAMLSeq, env, configMaps };
}

function hasCalicoNodeContainer(ds: YAMLMap): boolean {
  const containers = ds.getIn(["spec", "template", "spec", "containers"], true);
  return (
    isSeq(containers) && containers.items.some((c) => isMap(c) && str(c.get("name", true)) === CALICO_NODE)
  );
}

function summarizeKinds(kinds: string[]): string {
  const shownKinds = kinds.slice(0, 6).join(", ");
  return kinds.length > 6 ? `${shownKinds}, …` : shownKinds;
}

export function findEnv(m: CalicoNodeManifest, name: string): EnvEntry | undefined {
  // Kubernetes applies the last duplicate; so do we.
  return [...m.env].reverse().find((e) => e.name === name);
}

export function readEnv(m: CalicoNodeManifest, name: string): EnvRead {
  const entry = findEnv(m, name);
  if (!entry) return { state: "absent" };
  const value = entry.item.get("value", true);
  if (isScalar(value)) return { state: "literal", text: scalarText(value), node: value, entry };
  const ref = entry.item.getIn(["valueFrom", "configMapKeyRef"], true);
  if (isMap(ref)) {
    const configMap = str(ref.get("name", true)) ?? "";
    const key = str(ref.get("key", true)) ?? "";
    const node = m.configMaps.get(configMap)?.data?.get(key, true);
    return { state: "configMap", configMap, key, node: isScalar(node) ? node : undefined, entry };
  }
  if (entry.item.has("valueFrom")) return { state: "other", why: "valueFrom", entry };
  return { state: "other", why: value === undefined ? "no value" : "not a string", entry };
}

/** A scalar's value as text, whatever YAML type the (1.2) parser gave it. */
export function scalarText(node: Scalar): string {
  if (node.value === null || node.value === undefined) return "";
  return typeof node.value === "string" ? node.value : String(node.source ?? node.value);
}

/** YAML 1.1 (what Kubernetes' decoder follows) reads these plain scalars as non-strings. */
const YAML11_BOOL = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const YAML11_NULL = /^(~|null|Null|NULL|)$/;
const YAML11_NUMBER =
  /^[-+]?(0|[1-9][0-9_]*|0[0-7_]+|0x[0-9a-fA-F_]+|0b[01_]+|[0-9][0-9_]*(:[0-5]?[0-9])+|([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?|\.(inf|Inf|INF)|\.(nan|NaN|NAN))$/;

/**
 * The unquoted-scalar trap: an env value or ConfigMap datum written plain that YAML 1.1 reads as a bool,
 * number or null. Kubernetes rejects it (env values and ConfigMap data must be strings); `off` is the classic.
 * Returns what YAML 1.1 reads it as, or undefined when the scalar is safe.
 */
export function unquotedTrap(m: CalicoNodeManifest, node: Scalar): string | undefined {
  if (node.type !== "PLAIN" || !node.range) return undefined;
  const src = m.text.slice(node.range[0], node.range[1]);
  if (YAML11_BOOL.test(src)) return `the boolean ${/^(y|yes|true|on)$/i.test(src) ? "true" : "false"}`;
  if (YAML11_NULL.test(src)) return "null";
  if (YAML11_NUMBER.test(src)) return "a number";
  return undefined;
}
