// The parser: a rendered (or any upstream) calico.yaml → the agent's typed settings. It reads through the
// same model as the renderer (model.ts), so parse(render(v)) is v.
import { parseAutodetectMethod, type AutodetectMethod } from "./autodetect-method.ts";
import { locateCalicoNode, readEnv } from "./calico-node.ts";
import { readVariant } from "./model.ts";
import { ManifestError, shown, type ManifestNote, type ManifestProblem } from "./problems.ts";
import { birdArgFor, isCalicoNodeProbe, readProbes } from "./probes.ts";
import { validateVariant } from "./validate.ts";
import type { Backend, CalicoVariant, DatastoreType, EncapMode, LabNetwork } from "./variant.ts";

export interface EtcdTls {
  /** "" when unset. */
  caCertFile: string;
  certFile: string;
  keyFile: string;
}

export type DatastoreSettings =
  { type: "kubernetes" } | { type: "etcdv3"; endpoints: string[]; tls: EtcdTls | null };

/** What the agent needs from the manifest, typed. */
export interface AgentSettings {
  backend: Backend;
  datastore: DatastoreSettings;
  pool: {
    cidr: string;
    blockSize: number;
    ipipMode: EncapMode;
    vxlanMode: EncapMode;
    natOutgoing: boolean;
  };
  felix: {
    /** null: the manifest does not set FELIX_IPINIPENABLED. */
    ipipEnabled: boolean | null;
    vxlanEnabled: boolean | null;
    ipipMtu: number;
    vxlanMtu: number;
  };
  /** Pod interface MTU; 0 = auto-detect. */
  vethMtu: number;
  node: {
    /** "autodetect", "none" or an address. */
    ip: string;
    autodetection: AutodetectMethod;
    asNumber: number;
  };
  /** Which encapsulation the default pool uses for cross-host traffic. */
  encapsulation: "ipip" | "vxlan" | "none";
}

export interface ParsedManifest {
  variant: CalicoVariant;
  settings: AgentSettings;
  notes: ManifestNote[];
  /** Empty when the manifest is sound. */
  problems: ManifestProblem[];
}

export interface ParseOptions {
  /** When given, the settings are also checked against the lab network. */
  network?: LabNetwork;
  subject?: string;
}

/** Parses and reports; throws only when there is no calico-node DaemonSet or the YAML is invalid. */
export function parseManifest(text: string, opts: ParseOptions = {}): ParsedManifest {
  const m = locateCalicoNode(text, opts.subject ?? "manifest");
  const read = readVariant(m);
  const problems: ManifestProblem[] = read.problems.map(({ field, value, message, fix }) => ({
    field,
    value,
    message,
    fix,
  }));
  const readFailed = new Set(read.problems.filter((p) => !p.trap).map((p) => p.knob));
  // Semantic checks on the fields that did read (an unreadable field is already one problem).
  for (const p of validateVariant(read.variant, opts.network)) {
    if (![...readFailed].some((f) => f && p.field.startsWith(`${f} `))) problems.push(p);
  }
  const notes = [...read.notes];
  const backendRead = !read.problems.some((p) => p.knob === "backend");
  if (backendRead) {
    for (const p of readProbes(m)) {
      const arg = p.bird ? String(p.bird.value) : birdArgFor(p);
      if (read.variant.backend !== "bird" && p.bird) {
        problems.push({
          field: `calico-node ${p.probe}`,
          value: shown(arg),
          message:
            `checks BIRD, but calico_backend "${read.variant.backend}" runs no BIRD: calico-node would ` +
            (p.probe === "readinessProbe" ? "never become ready" : "fail it and be restarted over and over"),
          fix: `remove ${arg} from the ${p.probe} command (scripts/render-manifest --preset vxlan does)`,
        });
      } else if (
        read.variant.backend === "bird" &&
        p.probe === "readinessProbe" &&
        !p.bird &&
        isCalicoNodeProbe(p)
      ) {
        notes.push({
          field: `calico-node ${p.probe}`,
          message: `does not check BIRD (${arg}), although calico_backend "bird" runs it: a BIRD failure would go unnoticed`,
        });
      }
    }
  }
  if (readEnv(m, "CALICO_IPV4POOL_CIDR").state === "absent") {
    notes.push({
      field: "CALICO_IPV4POOL_CIDR",
      message:
        "not set (commented out in v3.13+ manifests): calico-node creates the default pool from kubeadm's pod " +
        "CIDR if it finds one, else 192.168.0.0/16; render with a pod CIDR to pin it",
    });
  }
  return { variant: read.variant, settings: toAgentSettings(read.variant), notes, problems };
}

/** The agent's entry point: settings from a manifest, or a ManifestError listing every problem. */
export function readAgentSettings(text: string, opts: ParseOptions = {}): AgentSettings {
  const parsed = parseManifest(text, opts);
  if (parsed.problems.length > 0) throw new ManifestError(opts.subject ?? "manifest", parsed.problems);
  return parsed.settings;
}

export function toAgentSettings(v: CalicoVariant): AgentSettings {
  const method = parseAutodetectMethod(v.autodetect);
  const datastoreType: DatastoreType = v.datastoreType;
  const anyTls = v.etcdCaCertFile !== "" || v.etcdCertFile !== "" || v.etcdKeyFile !== "";
  return {
    backend: v.backend,
    datastore:
      datastoreType === "kubernetes"
        ? { type: "kubernetes" }
        : {
            type: "etcdv3",
            endpoints: [...v.etcdEndpoints],
            tls: anyTls
              ? { caCertFile: v.etcdCaCertFile, certFile: v.etcdCertFile, keyFile: v.etcdKeyFile }
              : null,
          },
    pool: {
      cidr: v.podCidr,
      blockSize: v.blockSize,
      ipipMode: v.ipipMode,
      vxlanMode: v.vxlanMode,
      natOutgoing: v.natOutgoing,
    },
    felix: {
      ipipEnabled: v.felixIpipEnabled,
      vxlanEnabled: v.felixVxlanEnabled,
      ipipMtu: v.ipipMtu,
      vxlanMtu: v.vxlanMtu,
    },
    vethMtu: v.vethMtu,
    node: {
      ip: v.ip,
      autodetection: method.ok ? method.method : { kind: "first-found" },
      asNumber: v.asNumber,
    },
    encapsulation: v.vxlanMode !== "Never" ? "vxlan" : v.ipipMode !== "Never" ? "ipip" : "none",
  };
}
