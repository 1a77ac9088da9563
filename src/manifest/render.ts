// The renderer: manifest text + variant → manifest text. Pure. It finds each entry through the yaml
// Document API (calico-node container, its env list, calico-config) and splices new text into the node's
// source range only, so comments, key order, quoting and every untouched line survive byte for byte.
import { isScalar, type Node, type Pair, type Scalar, type YAMLMap } from "yaml";
import {
  CALICO_CONFIG,
  locateCalicoNode,
  readEnv,
  type CalicoNodeManifest,
  type EnvEntry,
} from "./calico-node.ts";
import { KNOBS, readVariant, sameValue, type Field, type Knob } from "./model.ts";
import { ManifestError, shown, type ManifestNote, type ManifestProblem } from "./problems.ts";
import { applyLabImages, upstreamImages } from "./lab-images.ts";
import { birdArgFor, isCalicoNodeProbe, readProbes, versionChecksBird } from "./probes.ts";
import { validateVariant } from "./validate.ts";
import {
  CALICO_DEFAULTS,
  resolveVariant,
  type CalicoVariant,
  type LabNetwork,
  type VariantSpec,
} from "./variant.ts";

export interface RenderOptions {
  /** When given, the variant is also checked against the lab network (overlaps, MTU limits). */
  network?: LabNetwork;
  /** Names the input in error messages, e.g. a file name. */
  subject?: string;
  /**
   * The image knob: our calico-node image (`calico-lab/node:<tag>`) for what the lab applies to a kubeadm
   * cluster (src/manifest/lab-images.ts). Absent: the manifest's images are left as they are.
   */
  nodeImage?: string;
}

export interface RenderResult {
  text: string;
  /** The complete variant the output holds (what `parseManifest(text).variant` returns). */
  variant: CalicoVariant;
  /** One line per edit, e.g. `CALICO_IPV4POOL_IPIP: "Always" → "Never"`. */
  changes: string[];
  notes: ManifestNote[];
}

/**
 * Renders `spec` onto a manifest: only the knobs whose value differs from what the manifest already
 * holds are edited; knobs the spec leaves out keep the manifest's values. Throws a ManifestError listing
 * every problem (with the field, the value and the fix) when the result would be invalid.
 */
export function renderManifest(text: string, spec: VariantSpec, opts: RenderOptions = {}): RenderResult {
  const subject = opts.subject ?? "manifest";
  const m0 = locateCalicoNode(text, subject);
  const current = readVariant(m0);
  const notes: ManifestNote[] = [];
  const changes: string[] = [];

  const normalized: VariantSpec = { ...spec };
  for (const f of ["ipipMode", "vxlanMode"] as const) {
    if ((normalized[f] as string | undefined) === "off") {
      normalized[f] = "Never";
      notes.push({ field: f, message: `"off" is the legacy alias of "Never"; written as "Never"` });
    }
  }
  const desired = resolveVariant(current.variant, normalized);

  // Problems in the input that the spec does not override, plus everything wrong with the result.
  const overridden = new Set(Object.keys(normalized).filter((k) => normalized[k as Field] !== undefined));
  const problems: ManifestProblem[] = current.problems
    .filter((p) => !p.trap && !(p.knob && overridden.has(p.knob)))
    .map(({ field, value, message, fix }) => ({ field, value, message, fix }));
  if (normalized.datastoreType !== undefined && normalized.datastoreType !== current.variant.datastoreType) {
    problems.push({
      field: "datastoreType (DATASTORE_TYPE)",
      value: shown(normalized.datastoreType),
      message: `the manifest uses the ${current.variant.datastoreType} datastore; rendering cannot switch datastores`,
      fix: `start from ${normalized.datastoreType === "etcdv3" ? "templates/calico-etcd.yaml (or upstream calico-etcd.yaml)" : "templates/calico.yaml (or upstream calico.yaml)"}`,
    });
  }
  problems.push(...validateVariant(desired, opts.network));
  problems.push(...configKeyProblems(m0, current.variant, desired));
  if (problems.length > 0) throw new ManifestError(subject, problems);

  let out = text;
  let m = m0;
  let now = current;
  for (const knob of KNOBS) {
    if (m.text !== out) {
      m = locateCalicoNode(out, subject);
      now = readVariant(m);
    }
    // A trapped (unquoted) or unreadable value is rewritten even when its fallback equals what is wanted.
    const rewrite = now.problems.some((p) => p.knob === knob.field);
    const before = out;
    out = applyKnob(m, now.variant, knob, desired, rewrite, changes, notes);
    if (out !== before && knob.defaultPoolOnly) {
      notes.push({
        field: knob.env as string,
        message:
          "only seeds the default IPv4 pool when calico-node first creates it; on a running cluster, edit the " +
          "IPPool instead (calicoctl patch ippool default-ipv4-ippool)",
      });
    }
  }
  if (desired.backend !== "bird") out = dropBirdProbes(out, subject, changes);
  else if (current.variant.backend !== "bird" || current.problems.some((p) => p.knob === "backend")) {
    // Back to BIRD from a backend that ran none (vxlan, none): the BIRD checks vxlan dropped come back.
    out = restoreBirdProbes(out, subject, changes, notes);
  }

  // The output must read back as exactly the variant asked for: the renderer and parser share one model.
  const located = locateCalicoNode(out, subject);
  const check = readVariant(located);
  const probesWrong = desired.backend !== "bird" && readProbes(located).some((p) => p.bird !== undefined);
  if (!sameValue(check.variant, desired) || check.problems.length > 0 || probesWrong) {
    throw new Error(
      `renderer bug: output reads back as ${JSON.stringify(check.variant)} (problems: ${JSON.stringify(check.problems)}), wanted ${JSON.stringify(desired)}`,
    );
  }
  if (opts.nodeImage !== undefined)
    out = withLabImages(out, opts.nodeImage, subject, desired, changes, notes);
  return { text: out, variant: desired, changes, notes };
}

/** The image knob, then the proof: the same variant, and no image the lab would have to pull. */
function withLabImages(
  text: string,
  nodeImage: string,
  subject: string,
  desired: CalicoVariant,
  changes: string[],
  notes: ManifestNote[],
): string {
  const r = applyLabImages(text, nodeImage, subject);
  changes.push(...r.changes);
  notes.push(...r.notes);
  const left = upstreamImages(r.text);
  if (left.length > 0) {
    throw new ManifestError(
      subject,
      left.map((u) => ({
        field: `${u.workload} container ${u.container}`,
        value: shown(u.image),
        message: "an image the lab does not build: there is no registry to pull it from",
        fix: "remove this workload from the manifest, or build its image for the lab",
      })),
    );
  }
  const check = readVariant(locateCalicoNode(r.text, subject));
  if (!sameValue(check.variant, desired) || check.problems.length > 0)
    throw new Error(`renderer bug: the image knob changed the variant to ${JSON.stringify(check.variant)}`);
  return r.text;
}

function applyKnob(
  m: CalicoNodeManifest,
  now: CalicoVariant,
  knob: Knob,
  desired: CalicoVariant,
  rewrite: boolean,
  changes: string[],
  notes: ManifestNote[],
): string {
  const t = m.text;
  const want = desired[knob.field];
  const wantText = knob.write(want as never);
  const same = sameValue(now[knob.field], want) && !rewrite;

  if (knob.configKey) {
    const cm = m.configMaps.get(CALICO_CONFIG);
    const node = cm?.data?.get(knob.configKey, true);
    if (isScalar(node)) {
      if (same) return t;
      changes.push(
        `${CALICO_CONFIG} ${knob.configKey}: ${scalarSource(t, node)} → ${JSON.stringify(wantText)}`,
      );
      return replaceScalar(t, node, wantText ?? "");
    }
    if (sameValue(want, CALICO_DEFAULTS[knob.field]) || !cm?.data) {
      if (!cm?.data && !sameValue(want, CALICO_DEFAULTS[knob.field])) {
        notes.push({
          field: knob.configKey,
          message: `no ${CALICO_CONFIG} ConfigMap to hold ${knob.configKey}; not written`,
        });
      }
      return t;
    }
    changes.push(`${CALICO_CONFIG} ${knob.configKey}: added ${JSON.stringify(wantText)}`);
    return insertConfigKey(t, cm.data, knob.configKey, wantText ?? "");
  }

  const env = knob.env as string;
  const read = readEnv(m, env);
  if (read.state === "absent") {
    if (wantText === null || sameValue(want, CALICO_DEFAULTS[knob.field])) return t;
    const commented = env === "CALICO_IPV4POOL_CIDR" ? commentedEntryEnd(m, env) : undefined;
    if (commented !== undefined) {
      changes.push(`${env}: was commented out; added an active entry ${JSON.stringify(wantText)}`);
      notes.push({
        field: env,
        message:
          `the input has ${env} commented out (v3.13+ manifests), so calico-node would create the pool from ` +
          `its default (192.168.0.0/16 or kubeadm's pod CIDR); an active entry ${JSON.stringify(wantText)} was added below the comment`,
      });
      return insertEnvAt(t, m, commented, env, wantText);
    }
    changes.push(`${env}: added ${JSON.stringify(wantText)}`);
    const anchor = knob.after
      .map((a) => m.env.filter((e) => e.name === a).at(-1))
      .find((e) => e !== undefined);
    return insertEnvAt(
      t,
      m,
      anchor ? itemEnd(t, anchor.item) : itemEnd(t, m.env.at(-1)!.item),
      env,
      wantText,
    );
  }
  if (wantText === null) {
    changes.push(`${env}: removed`);
    return removeItem(t, read.entry);
  }
  if (read.state === "literal") {
    if (same) return t;
    changes.push(`${env}: ${scalarSource(t, read.node)} → ${JSON.stringify(wantText)}`);
    return replaceScalar(t, read.node, wantText);
  }
  if (read.state === "configMap" && read.node) {
    if (same) return t;
    const shared = read.key === "veth_mtu" || read.configMap !== CALICO_CONFIG;
    if (!shared) {
      changes.push(
        `${env} (${read.configMap} ${read.key}): ${scalarSource(t, read.node)} → ${JSON.stringify(wantText)}`,
      );
      return replaceScalar(t, read.node, wantText);
    }
    changes.push(`${env}: was ${read.configMap} ${read.key}; now its own value ${JSON.stringify(wantText)}`);
  } else {
    changes.push(`${env}: valueFrom replaced by ${JSON.stringify(wantText)}`);
  }
  return valueFromToLiteral(t, read.entry, wantText);
}

/**
 * A knob that lives only in calico-config (veth_mtu) can be changed only where the manifest has that
 * ConfigMap with a scalar entry to write beside: else it is the user's to add, not a silent no-op.
 */
function configKeyProblems(
  m: CalicoNodeManifest,
  now: CalicoVariant,
  desired: CalicoVariant,
): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const data = m.configMaps.get(CALICO_CONFIG)?.data;
  for (const knob of KNOBS) {
    if (!knob.configKey || sameValue(now[knob.field], desired[knob.field])) continue;
    if (isScalar(data?.get(knob.configKey, true))) continue;
    const hasScalar = data?.items.some(
      (p) => isScalar(p.key) && isScalar(p.value) && !String(p.value.type).startsWith("BLOCK"),
    );
    if (hasScalar) continue;
    problems.push({
      field: `${knob.field} (${CALICO_CONFIG} ${knob.configKey})`,
      value: shown(desired[knob.field]),
      message: data
        ? `the ${CALICO_CONFIG} ConfigMap has no entry to write ${knob.configKey} beside`
        : `${knob.configKey} lives in the ${CALICO_CONFIG} ConfigMap, which this manifest does not have`,
      fix: `add a ${CALICO_CONFIG} ConfigMap with data.${knob.configKey} (every upstream calico.yaml has one), or leave ${knob.field} as it is`,
    });
  }
  return problems;
}

// --- text surgery at node ranges -------------------------------------------------------------------------

const sp = (n: number) => " ".repeat(Math.max(0, n));
const lineStart = (t: string, off: number) => t.lastIndexOf("\n", off - 1) + 1;
const range = (n: Node): [number, number, number] => {
  if (!n.range) throw new Error("yaml node without a source range");
  return n.range;
};

function scalarSource(t: string, node: Scalar): string {
  const [a, b] = range(node);
  return t.slice(a, b);
}

/** Writes a value as a double-quoted scalar (JSON escapes are YAML double-quoted escapes). */
function replaceScalar(t: string, node: Scalar, value: string): string {
  const [a, b] = range(node);
  return t.slice(0, a) + JSON.stringify(value) + t.slice(b);
}

/** The offset just past the line that ends a block collection item. */
function itemEnd(t: string, item: Node): number {
  const end = range(item)[1];
  if (end > 0 && t[end - 1] === "\n") return end;
  const nl = t.indexOf("\n", end);
  return nl < 0 ? t.length : nl + 1;
}

function insertEnvAt(t: string, m: CalicoNodeManifest, at: number, name: string, value: string): string {
  const first = m.env[0]?.item ?? (m.envSeq.items[0] as Node | undefined);
  let dashCol = 4;
  let mapCol = 6;
  if (first) {
    const start = range(first)[0];
    const ls = lineStart(t, start);
    mapCol = start - ls;
    dashCol = t.slice(ls, start).search(/-/);
    if (dashCol < 0) dashCol = mapCol - 2;
  }
  const lead = at > 0 && t[at - 1] !== "\n" ? "\n" : "";
  const entry = `${lead}${sp(dashCol)}-${sp(mapCol - dashCol - 1)}name: ${name}\n${sp(mapCol)}value: ${JSON.stringify(value)}\n`;
  return t.slice(0, at) + entry + t.slice(at);
}

function removeItem(t: string, entry: EnvEntry): string {
  return t.slice(0, lineStart(t, range(entry.item)[0])) + t.slice(itemEnd(t, entry.item));
}

/** Gives an env entry a literal value in place of its valueFrom (or its non-string or missing value). */
function valueFromToLiteral(t: string, entry: EnvEntry, value: string): string {
  const [a, b] = range(entry.item);
  if (entry.item.flow) {
    return t.slice(0, a) + `{ name: ${entry.name}, value: ${JSON.stringify(value)} }` + t.slice(b);
  }
  const pair = entry.item.items.find(
    (p) => isScalar(p.key) && (p.key.value === "valueFrom" || p.key.value === "value"),
  ) as Pair<Scalar, Node | null> | undefined;
  if (pair?.value) {
    const start = range(pair.key)[0];
    return t.slice(0, start) + `value: ${JSON.stringify(value)}\n` + t.slice(itemEnd(t, pair.value));
  }
  // No value at all (or `valueFrom:` with nothing): the value goes below the entry's name.
  const name = entry.item.items.find((p) => isScalar(p.key) && p.key.value === "name") as
    Pair<Scalar, Scalar> | undefined;
  if (!name?.value) throw new Error(`env entry ${entry.name} without a name scalar`);
  const keyStart = range(name.key)[0];
  const col = keyStart - lineStart(t, keyStart);
  const at = pair ? lineStart(t, range(pair.key)[0]) : itemEnd(t, name.value);
  const end = pair ? itemEnd(t, pair.key) : at;
  return t.slice(0, at) + `${sp(col)}value: ${JSON.stringify(value)}\n` + t.slice(end);
}

function insertConfigKey(t: string, data: YAMLMap, key: string, value: string): string {
  const pairs = data.items.filter(
    (p) => isScalar(p.key) && isScalar(p.value) && !String(p.value.type).startsWith("BLOCK"),
  ) as Pair<Scalar, Scalar>[];
  const after = pairs.at(-1);
  if (!after) throw new Error(`${CALICO_CONFIG} data has no scalar entry to place ${key} after`);
  const keyStart = range(after.key)[0];
  const col = keyStart - lineStart(t, keyStart);
  const at = itemEnd(t, after.value as Node);
  return t.slice(0, at) + `${sp(col)}${key}: ${JSON.stringify(value)}\n` + t.slice(at);
}

const COMMENTED = (env: string) => new RegExp(`^\\s*#\\s*-\\s*name:\\s*["']?${env}["']?\\s*$`);
const COMMENTED_VALUE = /^\s*#\s+value:/;

/**
 * Where an entry commented out inside the env list (`# - name: X` / `#   value: ...`) ends, so the real
 * entry goes right below it. Only the env list's own lines are searched.
 */
function commentedEntryEnd(m: CalicoNodeManifest, env: string): number | undefined {
  const t = m.text;
  const [s, , e] = range(m.envSeq);
  let pos = lineStart(t, s);
  const dashCol = m.env[0] ? range(m.env[0].item)[0] - lineStart(t, range(m.env[0].item)[0]) - 2 : 0;
  while (pos < t.length) {
    const nl = t.indexOf("\n", pos);
    const next = nl < 0 ? t.length : nl + 1;
    const line = t.slice(pos, nl < 0 ? t.length : nl);
    // Past the list: a non-comment line indented less than the items.
    if (pos >= e && !/^\s*(#.*)?$/.test(line)) break;
    if (pos >= e && line.search(/\S/) < dashCol && line.trim() !== "") break;
    if (COMMENTED(env).test(line)) {
      const nl2 = t.indexOf("\n", next);
      const following = t.slice(next, nl2 < 0 ? t.length : nl2);
      return COMMENTED_VALUE.test(following) ? (nl2 < 0 ? t.length : nl2 + 1) : next;
    }
    pos = next;
  }
  return undefined;
}

/** With calico_backend other than bird there is no BIRD: its checks (either spelling) would never pass. */
function dropBirdProbes(t: string, subject: string, changes: string[]): string {
  for (const probe of ["readinessProbe", "livenessProbe"] as const) {
    const p = readProbes(locateCalicoNode(t, subject)).find((s) => s.probe === probe)!;
    if (!p.bird || !p.command) continue;
    const arg = String(p.bird.value);
    changes.push(`calico-node ${probe}: removed ${arg} (no BIRD with this backend)`);
    if (p.command.flow) {
      // [a, -felix-ready, -bird-ready]: the item and the comma before it (or after it, when first).
      const items = p.command.items as Node[];
      const i = items.indexOf(p.bird);
      const [a, b] = range(p.bird);
      t =
        i + 1 < items.length
          ? t.slice(0, a) + t.slice(range(items[i + 1]!)[0])
          : i > 0
            ? t.slice(0, range(items[i - 1]!)[1]) + t.slice(b)
            : t.slice(0, a) + t.slice(b);
      continue;
    }
    const start = lineStart(t, range(p.bird)[0]);
    t = t.slice(0, start) + t.slice(itemEnd(t, p.bird));
  }
  return t;
}

/**
 * Backend bird after one without BIRD: each calico-node probe that checks Felix gets its BIRD check back
 * (readiness always, liveness from v3.10), right after the Felix check and in its spelling.
 */
function restoreBirdProbes(t: string, subject: string, changes: string[], notes: ManifestNote[]): string {
  for (const probe of ["readinessProbe", "livenessProbe"] as const) {
    const m = locateCalicoNode(t, subject);
    const p = readProbes(m).find((s) => s.probe === probe)!;
    if (p.bird || !versionChecksBird(m, probe)) continue;
    const arg = birdArgFor(p);
    if (!isCalicoNodeProbe(p) || !p.felix) {
      notes.push({
        field: probe,
        message: `calico-node's ${probe} is not \`calico-node ${arg.replace("bird", "felix")}\`: add ${arg} to it by hand so BIRD is checked`,
      });
      continue;
    }
    if (p.command!.flow) {
      const end = range(p.felix)[1];
      const written = p.felix.type === "PLAIN" ? arg : JSON.stringify(arg);
      changes.push(`calico-node ${probe}: added ${arg} (BIRD runs with this backend)`);
      t = t.slice(0, end) + `, ${written}` + t.slice(end);
      continue;
    }
    const [s] = range(p.felix);
    const ls = lineStart(t, s);
    const at = itemEnd(t, p.felix);
    changes.push(`calico-node ${probe}: added ${arg} (BIRD runs with this backend)`);
    t = t.slice(0, at) + t.slice(ls, s) + arg + "\n" + t.slice(at);
  }
  return t;
}
