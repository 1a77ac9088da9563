// The one model shared by the renderer and the parser: which manifest entry holds each variant field, how
// its text reads into a typed value (leniently, with notes) and how a typed value is written back.
import {
  CALICO_CONFIG,
  readEnv,
  unquotedTrap,
  type CalicoNodeManifest,
  type EnvRead,
} from "./calico-node.ts";
import { shown, type ManifestNote, type ManifestProblem } from "./problems.ts";
import { BACKENDS, CALICO_DEFAULTS, DATASTORE_TYPES, type CalicoVariant, type EncapMode } from "./variant.ts";

export type Field = keyof CalicoVariant;

type ReadResult<T> = { ok: true; value: T; note?: string } | { ok: false; message: string; fix: string };

export interface Knob<K extends Field = Field> {
  field: K;
  /** The calico-node env entry; absent for knobs that live only in calico-config (veth_mtu). */
  env?: string;
  /** The calico-config key for ConfigMap-only knobs. */
  configKey?: string;
  /** Env entries to insert a new entry after, first present wins; else the end of the list. */
  after: string[];
  read(text: string): ReadResult<CalicoVariant[K]>;
  /** The text to write; null means "no entry" (only for nullable fields). */
  write(value: CalicoVariant[K]): string | null;
  /** Only seeds the default IPv4 pool when calico-node first creates it. */
  defaultPoolOnly?: boolean;
}

export function readEncapMode(text: string): ReadResult<EncapMode> {
  const t = text.trim();
  if (t === "Always" || t === "CrossSubnet" || t === "Never") return { ok: true, value: t };
  if (t === "off") return { ok: true, value: "Never", note: `"off" is the legacy alias of "Never"` };
  const lower = t.toLowerCase();
  const alias: Record<string, EncapMode> = {
    always: "Always",
    crosssubnet: "CrossSubnet",
    "cross-subnet": "CrossSubnet",
    never: "Never",
    off: "Never",
  };
  const guess = alias[lower];
  if (guess) {
    return { ok: true, value: guess, note: `calico-node reads "${t}" case-insensitively as "${guess}"` };
  }
  return {
    ok: false,
    message: "not an encapsulation mode",
    fix: `write one of "Always", "CrossSubnet", "Never" (quoted; "off" is accepted as the legacy "Never")`,
  };
}

function readBool(text: string): ReadResult<boolean> {
  const t = text.trim().toLowerCase();
  if (t === "true") return { ok: true, value: true };
  if (t === "false") return { ok: true, value: false };
  return { ok: false, message: "not a boolean", fix: `write "true" or "false" (quoted)` };
}

function readInt(min: number, max: number, fix: string): (text: string) => ReadResult<number> {
  return (text) => {
    const t = text.trim();
    if (!/^[0-9]+$/.test(t)) return { ok: false, message: "not a whole number", fix };
    const n = Number(t);
    if (n < min || n > max) return { ok: false, message: `out of range ${min}..${max}`, fix };
    return { ok: true, value: n };
  };
}

function readOneOf<T extends string>(values: readonly T[]): (text: string) => ReadResult<T> {
  return (text) => {
    const t = text.trim();
    if ((values as readonly string[]).includes(t)) return { ok: true, value: t as T };
    return {
      ok: false,
      message: `not one of ${values.join(", ")}`,
      fix: `write one of ${values.map((v) => `"${v}"`).join(", ")}`,
    };
  };
}

const readText = (text: string): ReadResult<string> => ({ ok: true, value: text.trim() });

const mtuFix = "write a whole number of bytes, e.g. 1440";

/** In the order edits are applied: veth_mtu first, so env entries bound to it read its new value. */
export const KNOBS: Knob[] = [
  {
    field: "vethMtu",
    configKey: "veth_mtu",
    after: [],
    read: readInt(0, 65535, mtuFix),
    write: String,
  } satisfies Knob<"vethMtu">,
  {
    field: "datastoreType",
    env: "DATASTORE_TYPE",
    after: [],
    read: readOneOf(DATASTORE_TYPES),
    write: String,
  } satisfies Knob<"datastoreType">,
  {
    field: "etcdEndpoints",
    env: "ETCD_ENDPOINTS",
    after: ["DATASTORE_TYPE"],
    read: (t) => ({
      ok: true,
      value: t
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    }),
    write: (v) => v.join(","),
  } satisfies Knob<"etcdEndpoints">,
  {
    field: "etcdCaCertFile",
    env: "ETCD_CA_CERT_FILE",
    after: ["ETCD_ENDPOINTS"],
    read: readText,
    write: String,
  } satisfies Knob<"etcdCaCertFile">,
  {
    field: "etcdKeyFile",
    env: "ETCD_KEY_FILE",
    after: ["ETCD_CA_CERT_FILE", "ETCD_ENDPOINTS"],
    read: readText,
    write: String,
  } satisfies Knob<"etcdKeyFile">,
  {
    field: "etcdCertFile",
    env: "ETCD_CERT_FILE",
    after: ["ETCD_KEY_FILE", "ETCD_CA_CERT_FILE", "ETCD_ENDPOINTS"],
    read: readText,
    write: String,
  } satisfies Knob<"etcdCertFile">,
  {
    field: "backend",
    env: "CALICO_NETWORKING_BACKEND",
    after: ["NODENAME", "WAIT_FOR_DATASTORE", "DATASTORE_TYPE"],
    read: readOneOf(BACKENDS),
    write: String,
  } satisfies Knob<"backend">,
  {
    field: "ip",
    env: "IP",
    after: ["CLUSTER_TYPE", "CALICO_NETWORKING_BACKEND"],
    read: readText,
    write: String,
  } satisfies Knob<"ip">,
  {
    field: "autodetect",
    env: "IP_AUTODETECTION_METHOD",
    after: ["IP", "CLUSTER_TYPE"],
    read: readText,
    write: String,
  } satisfies Knob<"autodetect">,
  {
    field: "asNumber",
    env: "AS",
    after: ["IP_AUTODETECTION_METHOD", "IP", "CLUSTER_TYPE"],
    read: readInt(1, 4294967295, "write a whole number, e.g. 64512 (private range 64512-65534)"),
    write: String,
  } satisfies Knob<"asNumber">,
  {
    field: "ipipMode",
    env: "CALICO_IPV4POOL_IPIP",
    after: ["IP_AUTODETECTION_METHOD", "IP", "CLUSTER_TYPE"],
    read: readEncapMode,
    write: String,
    defaultPoolOnly: true,
  } satisfies Knob<"ipipMode">,
  {
    field: "vxlanMode",
    env: "CALICO_IPV4POOL_VXLAN",
    after: ["CALICO_IPV4POOL_IPIP", "IP"],
    read: readEncapMode,
    write: String,
    defaultPoolOnly: true,
  } satisfies Knob<"vxlanMode">,
  {
    field: "felixIpipEnabled",
    env: "FELIX_IPINIPENABLED",
    after: ["CALICO_IPV4POOL_IPIP", "CALICO_IPV4POOL_VXLAN", "IP"],
    read: readBool,
    write: (v) => (v === null ? null : String(v)),
  } satisfies Knob<"felixIpipEnabled">,
  {
    field: "felixVxlanEnabled",
    env: "FELIX_VXLANENABLED",
    after: ["CALICO_IPV4POOL_VXLAN", "CALICO_IPV4POOL_IPIP", "IP"],
    read: readBool,
    write: (v) => (v === null ? null : String(v)),
  } satisfies Knob<"felixVxlanEnabled">,
  {
    field: "ipipMtu",
    env: "FELIX_IPINIPMTU",
    after: ["FELIX_VXLANENABLED", "FELIX_IPINIPENABLED", "CALICO_IPV4POOL_VXLAN", "CALICO_IPV4POOL_IPIP"],
    read: readInt(0, 65535, mtuFix),
    write: String,
  } satisfies Knob<"ipipMtu">,
  {
    field: "vxlanMtu",
    env: "FELIX_VXLANMTU",
    after: ["FELIX_IPINIPMTU", "FELIX_VXLANENABLED", "CALICO_IPV4POOL_VXLAN", "CALICO_IPV4POOL_IPIP"],
    read: readInt(0, 65535, mtuFix),
    write: String,
  } satisfies Knob<"vxlanMtu">,
  {
    field: "podCidr",
    env: "CALICO_IPV4POOL_CIDR",
    after: ["FELIX_VXLANMTU", "FELIX_IPINIPMTU", "CALICO_IPV4POOL_VXLAN", "CALICO_IPV4POOL_IPIP"],
    read: readText,
    write: String,
    defaultPoolOnly: true,
  } satisfies Knob<"podCidr">,
  {
    field: "blockSize",
    env: "CALICO_IPV4POOL_BLOCK_SIZE",
    after: ["CALICO_IPV4POOL_CIDR", "FELIX_VXLANMTU", "FELIX_IPINIPMTU"],
    read: readInt(0, 128, "write a whole number from 20 to 32, e.g. 26"),
    write: String,
    defaultPoolOnly: true,
  } satisfies Knob<"blockSize">,
  {
    field: "natOutgoing",
    env: "CALICO_IPV4POOL_NAT_OUTGOING",
    after: ["CALICO_IPV4POOL_BLOCK_SIZE", "CALICO_IPV4POOL_CIDR", "FELIX_VXLANMTU", "FELIX_IPINIPMTU"],
    read: readBool,
    write: String,
    defaultPoolOnly: true,
  } satisfies Knob<"natOutgoing">,
] as Knob[];

export function knobFor(field: Field): Knob {
  const k = KNOBS.find((k) => k.field === field);
  if (!k) throw new Error(`no knob for ${field}`);
  return k;
}

/** The name a message uses for a variant field: the variant key and the manifest entry it lives in. */
export function fieldLabel(field: Field): string {
  const k = knobFor(field);
  return `${field} (${k.env ?? `${CALICO_CONFIG} ${k.configKey}`})`;
}

export interface KnobState {
  knob: Knob;
  /** Where the value came from. */
  read: EnvRead | { state: "configKey"; present: boolean };
  /** The text seen, when there is one. */
  text: string | undefined;
}

export interface ReadOutcome {
  variant: CalicoVariant;
  states: Map<Field, KnobState>;
  /** Problems reading the manifest; `field` set to the knob's variant field when it belongs to one. */
  problems: (ManifestProblem & { knob?: Field; trap?: boolean })[];
  notes: ManifestNote[];
}

/** Reads every knob from a located manifest; unreadable ones keep Calico's default and become problems. */
export function readVariant(m: CalicoNodeManifest): ReadOutcome {
  const variant: CalicoVariant = { ...CALICO_DEFAULTS, etcdEndpoints: [] };
  const states = new Map<Field, KnobState>();
  const problems: ReadOutcome["problems"] = [];
  const notes: ManifestNote[] = [];
  const trappedNodes = new Set<unknown>();
  const set = (f: Field, v: unknown) => ((variant as unknown as Record<string, unknown>)[f] = v);

  for (const knob of KNOBS) {
    let text: string | undefined;
    let read: KnobState["read"];
    let label: string;
    let node: import("yaml").Scalar | undefined;
    if (knob.configKey) {
      label = `${CALICO_CONFIG} ${knob.configKey}`;
      const v = m.configMaps.get(CALICO_CONFIG)?.data?.get(knob.configKey, true);
      const scalar = v && typeof v === "object" && "value" in v ? (v as import("yaml").Scalar) : undefined;
      read = { state: "configKey", present: scalar !== undefined };
      node = scalar;
      text = scalar ? String(scalar.value ?? "") : undefined;
    } else {
      const env = knob.env as string;
      label = env;
      read = readEnv(m, env);
      if (read.state === "literal") {
        node = read.node;
        text = read.text;
      } else if (read.state === "configMap") {
        label = `${env} (from ConfigMap ${read.configMap} key ${read.key})`;
        if (!read.node) {
          problems.push({
            field: env,
            value: shown(`${read.configMap}/${read.key}`),
            message: `refers to ConfigMap ${read.configMap} key ${read.key}, which this manifest does not have`,
            fix: `add the key to ConfigMap ${read.configMap}, or give ${env} a literal value`,
            knob: knob.field,
          });
        } else {
          node = read.node;
          text = String(read.node.value ?? "");
        }
      } else if (read.state === "other") {
        const other = {
          valueFrom: {
            value: "(valueFrom)",
            message:
              "takes its value from a source the renderer cannot read (only value and configMapKeyRef are)",
          },
          "not a string": {
            value: "(a YAML list or map)",
            message: "has a value that is not a string; Kubernetes accepts only string env values",
          },
          "no value": { value: "(none)", message: "has neither value nor valueFrom" },
        }[read.why];
        problems.push({
          field: env,
          value: other.value,
          message: other.message,
          fix: `give ${env} a literal value`,
          knob: knob.field,
        });
      }
    }
    states.set(knob.field, { knob, read, text });
    if (node && !trappedNodes.has(node)) {
      const trap = unquotedTrap(m, node);
      if (trap) trappedNodes.add(node);
      if (trap) {
        const src = m.text.slice(node.range![0], node.range![1]);
        const good = knob.read(src);
        const suggestion = good.ok && good.value !== null ? knob.write(good.value as never) : src;
        // `key:` with nothing after it is a null too; say so rather than print an empty value.
        const empty = src === "";
        problems.push({
          field: label,
          value: empty ? "(empty)" : src,
          message: `${empty ? "an empty value" : `unquoted ${src}`} is ${trap} to Kubernetes (YAML 1.1), and env values and ConfigMap data must be strings`,
          fix: empty ? `write a quoted value, or "" for none` : `quote it: ${JSON.stringify(suggestion)}`,
          knob: knob.field,
          trap: true,
        });
      }
    }
    if (text === undefined) continue;
    const r = knob.read(text);
    if (!r.ok) {
      problems.push({ field: label, value: shown(text), message: r.message, fix: r.fix, knob: knob.field });
      continue;
    }
    set(knob.field, r.value);
    if (r.note) notes.push({ field: label, message: r.note });
    if (knob.defaultPoolOnly) {
      notes.push({
        field: label,
        message:
          "only seeds the default IPv4 pool, when calico-node first starts and no IPPool exists; changing it " +
          "later has no effect (edit the IPPool instead: calicoctl patch ippool default-ipv4-ippool)",
      });
    }
  }
  return { variant, states, problems, notes };
}

export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
