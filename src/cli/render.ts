// scripts/render-manifest: write a calico.yaml variant for a stack, a preset or given flags, to a file or
// stdout. Exit 2 on usage errors, 1 when the variant (or the input manifest) has problems.
import { readFileSync, realpathSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import {
  LAB_NETWORK,
  ManifestError,
  MODES,
  PRESETS,
  isMode,
  loadTemplate,
  mtusFor,
  parseManifest,
  renderManifest,
  resolveVariant,
  type DatastoreType,
  type LabNetwork,
  type VariantSpec,
} from "../manifest/index.ts";
import { labValues } from "../config/keys.ts";
import { readLabConfig } from "../config/read.ts";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

const USAGE = `usage: scripts/render-manifest [options]

Writes a calico.yaml variant. Starts from templates/calico-etcd.yaml (or --input, any Calico
manifest from v3.8 on) and edits only the entries the variant changes.

  --stack NAME            the variant of stacks/Pulumi.NAME.yaml (calico-lab:mode, podCidr, ...)
  --preset NAME           ${MODES.join(" | ")}
  --input FILE            the manifest to render onto (default: the lab template)
  --datastore TYPE        template to start from: etcdv3 (default) | kubernetes
  -o, --output FILE       write here instead of stdout
  --parse                 print the input's agent settings as JSON instead of rendering

  knobs (override the stack / preset):
  --pod-cidr CIDR         CALICO_IPV4POOL_CIDR            --block-size N    CALICO_IPV4POOL_BLOCK_SIZE
  --ipip MODE             Always | CrossSubnet | Never    --vxlan MODE      CALICO_IPV4POOL_VXLAN
  --felix-ipip BOOL       true | false | unset            --felix-vxlan BOOL  true | false | unset
  --nat-outgoing BOOL     CALICO_IPV4POOL_NAT_OUTGOING    --backend NAME    bird | vxlan | none
  --ip VALUE              autodetect | none | a.b.c.d     --autodetect M    IP_AUTODETECTION_METHOD
  --as N                  AS number                       --mtu N           underlay MTU: derives the MTUs below
  --veth-mtu N            calico-config veth_mtu          --ipip-mtu N / --vxlan-mtu N
  --etcd-endpoints URLS   comma-separated                 --etcd-ca / --etcd-cert / --etcd-key PATH

  image knob (what the lab applies to a kubeadm cluster; docs/kubernetes.md):
  --node-image REF        calico-lab/node:TAG for install-cni and calico-node, imagePullPolicy Never,
                          our entrypoints; calico-kube-controllers and other init containers dropped

  etcd: upstream calico-etcd.yaml ships etcd_endpoints "http://<ETCD_IP>:<ETCD_PORT>", a placeholder
  that is refused: pass --etcd-endpoints http://ETCD_HOST:2379[,...] (with https, also --etcd-ca,
  --etcd-cert and --etcd-key, the paths calico-node sees, e.g. /calico-secrets/etcd-ca).
  --input takes a rendered manifest: for a Helm chart, run \`helm template\` first. Relative paths are
  relative to the current directory; the script runs from any directory.

  checks (defaults: the lab's 192.168.19.0/24 underlay, 10.96.0.0/12 services, MTU 1500):
  --underlay-cidr CIDR    --service-cidr CIDR    --no-network-checks
  -q, --quiet             no change list and notes on stderr
  -h, --help
`;

class UsageError extends Error {}

const OPTIONS = {
  stack: { type: "string" },
  preset: { type: "string" },
  input: { type: "string" },
  datastore: { type: "string" },
  output: { type: "string", short: "o" },
  parse: { type: "boolean" },
  "pod-cidr": { type: "string" },
  "block-size": { type: "string" },
  ipip: { type: "string" },
  vxlan: { type: "string" },
  "felix-ipip": { type: "string" },
  "felix-vxlan": { type: "string" },
  "nat-outgoing": { type: "string" },
  backend: { type: "string" },
  ip: { type: "string" },
  autodetect: { type: "string" },
  as: { type: "string" },
  mtu: { type: "string" },
  "veth-mtu": { type: "string" },
  "ipip-mtu": { type: "string" },
  "vxlan-mtu": { type: "string" },
  "etcd-endpoints": { type: "string" },
  "etcd-ca": { type: "string" },
  "etcd-cert": { type: "string" },
  "etcd-key": { type: "string" },
  "node-image": { type: "string" },
  "underlay-cidr": { type: "string" },
  "service-cidr": { type: "string" },
  "no-network-checks": { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"];

function int(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v)) throw new UsageError(`--${flag} ${JSON.stringify(v)}: expected a whole number`);
  return Number(v);
}

function bool(flag: string, v: string | undefined, allowUnset: boolean): boolean | null | undefined {
  if (v === undefined) return undefined;
  if (v === "true" || v === "false") return v === "true";
  if (allowUnset && v === "unset") return null;
  throw new UsageError(
    `--${flag} ${JSON.stringify(v)}: expected true or false${allowUnset ? " or unset" : ""}`,
  );
}

/** The knob flags as a spec; only flags given appear. Values are checked by the validator, not here. */
export function specFromFlags(v: Values): VariantSpec {
  const spec: Record<string, unknown> = {
    podCidr: v["pod-cidr"],
    blockSize: int("block-size", v["block-size"]),
    ipipMode: v.ipip,
    vxlanMode: v.vxlan,
    felixIpipEnabled: bool("felix-ipip", v["felix-ipip"], true),
    felixVxlanEnabled: bool("felix-vxlan", v["felix-vxlan"], true),
    natOutgoing: bool("nat-outgoing", v["nat-outgoing"], false),
    backend: v.backend,
    ip: v.ip,
    autodetect: v.autodetect,
    asNumber: int("as", v.as),
    vethMtu: int("veth-mtu", v["veth-mtu"]),
    ipipMtu: int("ipip-mtu", v["ipip-mtu"]),
    vxlanMtu: int("vxlan-mtu", v["vxlan-mtu"]),
    etcdEndpoints: v["etcd-endpoints"]
      ?.split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
    etcdCaCertFile: v["etcd-ca"],
    etcdCertFile: v["etcd-cert"],
    etcdKeyFile: v["etcd-key"],
  };
  return Object.fromEntries(Object.entries(spec).filter(([, x]) => x !== undefined)) as VariantSpec;
}

/** `config:` of stacks/Pulumi.<name>.yaml (secure values left out). */
export function readStackFile(name: string, root = REPO_ROOT): Record<string, unknown> {
  if (!/^[A-Za-z0-9_.-]+$/.test(name))
    throw new UsageError(`--stack ${JSON.stringify(name)}: not a stack name`);
  const file = join(root, "stacks", `Pulumi.${name}.yaml`);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new UsageError(`--stack ${name}: ${file} does not exist`);
  }
  const doc = parseYaml(text) as { config?: Record<string, unknown> } | null;
  const config = doc?.config ?? {};
  return Object.fromEntries(
    Object.entries(config).filter(([, v]) => !(typeof v === "object" && v !== null && "secure" in v)),
  );
}

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  readFile: (path: string) => string;
  writeFile: (path: string, text: string) => void;
}

const nodeIo: CliIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  readFile: (p) => readFileSync(p, "utf8"),
  writeFile: (p, t) => writeFileSync(p, t),
};

/** Runs the command; returns the exit status. */
export function main(argv: string[], io: CliIo = nodeIo): number {
  try {
    return run(argv, io);
  } catch (e) {
    if (
      e instanceof UsageError ||
      (e instanceof TypeError && "code" in e && String(e.code).startsWith("ERR_PARSE_ARGS"))
    ) {
      io.stderr(`render-manifest: ${e.message}\n(see --help)\n`);
      return 2;
    }
    if (e instanceof ManifestError) {
      io.stderr(`render-manifest: ${e.message}\n`);
      return 1;
    }
    // A bug, not the user's input: one line, no stack trace (RENDER_MANIFEST_DEBUG=1 shows it).
    const msg = e instanceof Error ? e.message : String(e);
    io.stderr(
      `render-manifest: internal error: ${msg.split("\n")[0]}\n` +
        "this is a bug in render-manifest, not in your input; please report it with the input and the command\n",
    );
    if (process.env.RENDER_MANIFEST_DEBUG === "1" && e instanceof Error) io.stderr(`${e.stack}\n`);
    return INTERNAL_ERROR;
  }
}

/** Exit status for a bug in render-manifest itself (EX_SOFTWARE). */
export const INTERNAL_ERROR = 70;

const FILE_ERRORS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EISDIR: "is a directory",
  EACCES: "permission denied",
  ENOTDIR: "a path component is not a directory",
};

/** Why a file could not be read or written, in words (": no such file or directory"). */
function errorCode(e: unknown): string {
  const code = e instanceof Error && "code" in e ? String(e.code) : "";
  return code ? `: ${FILE_ERRORS[code] ?? code}` : "";
}

function run(argv: string[], io: CliIo): number {
  const { values: v, positionals } = parseArgs({
    args: argv,
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  if (v.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  if (v.preset !== undefined && !isMode(v.preset)) {
    throw new UsageError(`--preset ${JSON.stringify(v.preset)}: use one of ${MODES.join(", ")}`);
  }
  if (v.stack !== undefined && v.preset !== undefined) {
    throw new UsageError(
      "--stack and --preset both choose the mode: give one (the stack's calico-lab:mode is its preset)",
    );
  }
  if (v.datastore !== undefined && v.datastore !== "etcdv3" && v.datastore !== "kubernetes") {
    throw new UsageError(`--datastore ${JSON.stringify(v.datastore)}: use etcdv3 or kubernetes`);
  }
  if (v.input !== undefined && v.datastore !== undefined) {
    throw new UsageError("--datastore picks a template; with --input the manifest's own datastore is used");
  }

  const input = v.input ?? `templates/${v.datastore === "kubernetes" ? "calico.yaml" : "calico-etcd.yaml"}`;
  let text: string;
  try {
    text =
      v.input !== undefined ? io.readFile(v.input) : loadTemplate((v.datastore ?? "etcdv3") as DatastoreType);
  } catch (e) {
    throw new UsageError(`--input ${v.input}: cannot read the file${errorCode(e)}`);
  }

  if (v.parse) {
    const parsed = parseManifest(text, { subject: input });
    if (parsed.problems.length > 0) throw new ManifestError(input, parsed.problems);
    io.stdout(JSON.stringify(parsed.settings, null, 2) + "\n");
    if (!v.quiet) for (const n of parsed.notes) io.stderr(`note: ${n.field}: ${n.message}\n`);
    return 0;
  }

  let network: LabNetwork = {
    underlayCidr: v["underlay-cidr"] ?? LAB_NETWORK.underlayCidr,
    serviceCidr: v["service-cidr"] ?? LAB_NETWORK.serviceCidr,
    underlayMtu: int("mtu", v.mtu) ?? LAB_NETWORK.underlayMtu,
  };
  const flags = specFromFlags(v);
  let spec: VariantSpec;
  if (v.stack !== undefined) {
    const cfg = readStackFile(v.stack);
    if (v["underlay-cidr"]) cfg["calico-lab:underlayCidr"] = v["underlay-cidr"];
    if (v["service-cidr"]) cfg["calico-lab:serviceCidr"] = v["service-cidr"];
    if (v.mtu) cfg["calico-lab:mtu"] = v.mtu;
    const { raw, keys } = labValues(cfg);
    // The whole stack check the program makes: a stack `pulumi up` refuses renders no variant either.
    const stack = readLabConfig(v.stack, raw, keys, cfg);
    if (!stack.ok) throw new ManifestError(`stack "${v.stack}"`, stack.problems);
    network = stack.network;
    spec = { ...stack.variant, ...flags };
    // A stack's variant is for the lab's etcd template; onto a Kubernetes-datastore manifest, leave etcd out.
    if (parseManifest(text, { subject: input }).variant.datastoreType === "kubernetes") {
      for (const k of [
        "datastoreType",
        "etcdEndpoints",
        "etcdCaCertFile",
        "etcdCertFile",
        "etcdKeyFile",
      ] as const) {
        if (flags[k] === undefined) delete spec[k];
      }
    }
  } else {
    const preset = v.preset !== undefined && isMode(v.preset) ? PRESETS[v.preset] : {};
    const mtus =
      v.mtu !== undefined
        ? mtusFor(
            network.underlayMtu,
            resolveVariant(parseManifest(text, { subject: input }).variant, preset, flags),
          )
        : {};
    spec = { ...preset, ...mtus, ...flags };
  }

  const result = renderManifest(text, spec, {
    subject: input,
    ...(v["no-network-checks"] ? {} : { network }),
    ...(v["node-image"] !== undefined ? { nodeImage: v["node-image"] } : {}),
  });
  if (v.output !== undefined) {
    try {
      io.writeFile(v.output, result.text);
    } catch (e) {
      throw new UsageError(`--output ${v.output}: cannot write the file${errorCode(e)}`);
    }
  } else io.stdout(result.text);
  if (!v.quiet) {
    if (result.changes.length === 0) io.stderr(`${input}: already this variant; nothing changed\n`);
    for (const c of result.changes) io.stderr(`changed: ${c}\n`);
    for (const n of result.notes) io.stderr(`note: ${n.field}: ${n.message}\n`);
  }
  return 0;
}

if (process.argv[1] && realpathSync(fileURLToPath(import.meta.url)) === realpathSync(process.argv[1])) {
  process.exitCode = main(process.argv.slice(2));
}
