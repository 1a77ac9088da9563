// Stack config (`calico-lab:*` keys) → the lab's complete variant and network. Pure: the caller reads the
// config (Pulumi program: pulumi.runtime.allConfig; CLI: stacks/Pulumi.<name>.yaml).
import { IPv4, IPv4CidrRange, Validator } from "ip-num";
import { shown, type ManifestProblem } from "./problems.ts";
import { validateVariant } from "./validate.ts";
import type { Field } from "./model.ts";
import { MODE_SPECS, MODES, isMode, type Mode } from "../modes.ts";
import {
  LAB_DEFAULTS,
  LAB_NETWORK,
  mtusFor,
  resolveVariant,
  type CalicoVariant,
  type LabNetwork,
  type VariantSpec,
} from "./variant.ts";

export const STACK_NAMESPACE = "calico-lab";
/** The seeds' hosts start at .165 in the underlay; the master (etcd) is the first. */
const DEFAULT_HOST_OFFSET = 165n;
const ETCD_CLIENT_PORT = 2379;
/** The underlay MTUs the lab builds: IPv6's minimum link MTU to the usual jumbo frame. */
export const UNDERLAY_MTU_MIN = 1280;
export const UNDERLAY_MTU_MAX = 9000;

/**
 * The stack key a variant field comes from, so that a message names what the user wrote
 * (`calico-lab:blockSize`), not the manifest entry: the MTUs derive from `mtu`, etcd from the hosts, and
 * the rest of the variant from the mode's preset.
 */
export function stackKeyOf(field: Field): string {
  const own: Partial<Record<Field, string>> = {
    podCidr: "podCidr",
    blockSize: "blockSize",
    natOutgoing: "natOutgoing",
    asNumber: "asNumber",
    autodetect: "autodetect",
    ip: "autodetect",
    vethMtu: "mtu",
    ipipMtu: "mtu",
    vxlanMtu: "mtu",
    etcdEndpoints: "hosts",
  };
  return `${STACK_NAMESPACE}:${own[field] ?? "mode"}`;
}

export type StackVariantResult =
  | { ok: true; mode: Mode; variant: CalicoVariant; network: LabNetwork }
  | { ok: false; problems: ManifestProblem[] };

/**
 * Builds the variant a stack's config asks for. Accepts keys with or without the `calico-lab:` prefix and
 * values as strings or already-parsed JSON (numbers, booleans, arrays). Keys it does not know are left to
 * the lab's own config parser. The variant starts from LAB_DEFAULTS (templates/calico-etcd.yaml as
 * written), applies the mode's preset, then the explicit keys; `mtu` (the underlay MTU) derives the pod
 * and tunnel MTUs, otherwise the template's 1440 stays.
 */
export function variantFromStackConfig(cfg: Record<string, unknown>): StackVariantResult {
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cfg)) {
    raw[k.startsWith(`${STACK_NAMESPACE}:`) ? k.slice(STACK_NAMESPACE.length + 1) : k] = v;
  }
  const problems: ManifestProblem[] = [];
  const bad = (key: string, value: unknown, message: string, fix: string) =>
    problems.push({ field: `${STACK_NAMESPACE}:${key}`, value: shown(value), message, fix });

  let mode: Mode = "ipip";
  if (raw.mode !== undefined) {
    if (typeof raw.mode === "string" && isMode(raw.mode)) mode = raw.mode;
    else bad("mode", raw.mode, "unknown mode", `use one of ${MODES.join(", ")}`);
  }

  const str = (key: string): string | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (typeof v === "string") return v;
    bad(key, v, "not a string", `quote it in the stack file`);
    return undefined;
  };
  const int = (key: string): number | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    const n = typeof v === "string" && /^-?[0-9]+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n === "number" && Number.isInteger(n)) return n;
    bad(
      key,
      v,
      "not a whole number",
      `write a number, e.g. ${key === "mtu" ? 1500 : key === "blockSize" ? 26 : 64512}`,
    );
    return undefined;
  };
  const bool = (key: string): boolean | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (typeof v === "boolean") return v;
    if (v === "true" || v === "false") return v === "true";
    bad(key, v, "not a boolean", "write true or false");
    return undefined;
  };

  // Each key is read on its own: a bad one is reported and left at its default, so that the checks of
  // every other key still run (all problems at once); only checks needing that key's value are skipped.
  let mtu = int("mtu");
  if (mtu !== undefined && (mtu < UNDERLAY_MTU_MIN || mtu > UNDERLAY_MTU_MAX)) {
    bad(
      "mtu",
      raw.mtu,
      `the underlay MTU must be from ${UNDERLAY_MTU_MIN} to ${UNDERLAY_MTU_MAX}`,
      `leave it unset for 1500, or set e.g. ${UNDERLAY_MTU_MAX} for jumbo frames`,
    );
    mtu = undefined;
  }
  const network: LabNetwork = {
    underlayCidr: str("underlayCidr") ?? LAB_NETWORK.underlayCidr,
    serviceCidr: str("serviceCidr") ?? LAB_NETWORK.serviceCidr,
    underlayMtu: mtu ?? LAB_NETWORK.underlayMtu,
  };
  const overrides: VariantSpec = {};
  const podCidr = str("podCidr");
  if (podCidr !== undefined) overrides.podCidr = podCidr;
  const blockSize = int("blockSize");
  if (blockSize !== undefined) overrides.blockSize = blockSize;
  const nat = bool("natOutgoing");
  if (nat !== undefined) overrides.natOutgoing = nat;
  const as = int("asNumber");
  if (as !== undefined) overrides.asNumber = as;
  const autodetect = str("autodetect");
  if (autodetect !== undefined) overrides.autodetect = autodetect;
  const etcd = etcdEndpointFor(raw, network.underlayCidr);
  if (etcd) overrides.etcdEndpoints = [etcd];

  const { preset, defaultMtus } = MODE_SPECS[mode];
  // Without an explicit underlay MTU the template's 1440 stays, unless the mode says otherwise.
  const mtus =
    mtu !== undefined
      ? mtusFor(network.underlayMtu, resolveVariant(LAB_DEFAULTS, preset))
      : (defaultMtus ?? {});
  const variant = resolveVariant(LAB_DEFAULTS, preset, mtus, overrides);
  problems.push(...validateVariant(variant, network, stackKeyOf));
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, mode, variant, network };
}

/** etcd runs on the master: the host named "master", else the first host, else underlay + .165. */
function etcdEndpointFor(raw: Record<string, unknown>, underlayCidr: string): string | undefined {
  const hosts = Array.isArray(raw.hosts) ? (raw.hosts as unknown[]) : [];
  const withAddr = hosts.filter(
    (h): h is { name?: unknown; address: string } =>
      typeof h === "object" && h !== null && typeof (h as { address?: unknown }).address === "string",
  );
  const master = withAddr.find((h) => h.name === "master") ?? withAddr[0];
  if (master) return `http://${master.address}:${ETCD_CLIENT_PORT}`;
  if (!Validator.isValidIPv4CidrRange(underlayCidr)[0]) return undefined;
  const offset = typeof raw.hostOffset === "number" ? BigInt(raw.hostOffset) : DEFAULT_HOST_OFFSET;
  const first = IPv4CidrRange.fromCidr(underlayCidr).getFirst().getValue() + offset;
  return `http://${IPv4.fromNumber(first).toString()}:${ETCD_CLIENT_PORT}`;
}
