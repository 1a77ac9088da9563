// The stack's configuration read in one staged pass, as kind and netlab do: keys → parse → defaults →
// hosts → pods → kubernetes → network → validate, giving the lab's topology (LabConfig) and its Calico
// variant together, with every problem listed at once, one per cause, before anything is created. Pure:
// the caller reads the config (Pulumi program: pulumi.runtime.allConfig; CLIs: `pulumi config --json` or
// the stack file).
import type { CalicoVariant, LabNetwork } from "../manifest/variant.ts";
import { MODES, isMode, type Mode } from "../modes.ts";
import { problem, type Problem } from "../problems.ts";
import { checkAutodetect } from "./autodetect.ts";
import { parseRouteReflectors } from "./bgp.ts";
import { parseHosts } from "./hosts.ts";
import { checkKeys } from "./keys.ts";
import { parseKubernetes } from "./kubernetes.ts";
import {
  DEFAULTS,
  HOST_BACKENDS,
  UNDERLAY_MTU_MAX,
  UNDERLAY_MTU_MIN,
  key,
  type HostBackend,
  type LabConfig,
  type Raw,
} from "./model.ts";
import { checkPoolCapacity, parseNetworks } from "./network.ts";
import { parseOutside } from "./outside.ts";
import { parsePods } from "./pods.ts";
import { wholeNumber } from "./values.ts";
import { readVariant } from "./variant.ts";

export type LabRead =
  | { ok: true; config: LabConfig; variant: CalicoVariant; network: LabNetwork }
  | { ok: false; problems: Problem[] };

/**
 * Reads a stack's configuration: `raw` holds the `calico-lab:*` values keyed without namespace (`mode`,
 * `hosts`, …; numbers and booleans as text or parsed JSON), `allKeys` every key of the stack and `values`
 * their values (for messages about keys in other namespaces).
 */
export function readLabConfig(
  stack: string,
  raw: Raw,
  allKeys: readonly string[] = [],
  values: Readonly<Record<string, unknown>> = {},
): LabRead {
  const problems: Problem[] = [];
  const lab = readTopology(stack, raw, allKeys, values, problems);
  const variantProblems: Problem[] = [];
  const { variant, network } = readVariant(
    raw,
    { mode: lab.mode ?? DEFAULTS.mode, mtu: lab.explicitMtu, hosts: lab.hosts },
    variantProblems,
  );
  mergeVariantProblems(problems, variantProblems);
  if (problems.length > 0) return { ok: false, problems };
  // Every refusal names its cause; a stage that refused silently is a bug, not a message.
  if (!lab.config) throw new Error(`readLabConfig: ${stack} refused with no problem listed`);
  return { ok: true, config: lab.config, variant, network };
}

/** What the topology stages read: the config when every stage succeeded, and what the variant needs. */
interface TopologyRead {
  config?: LabConfig;
  mode: Mode | undefined;
  explicitMtu: number | undefined;
  hosts: LabConfig["hosts"];
}

function readTopology(
  stack: string,
  raw: Raw,
  allKeys: readonly string[],
  values: Readonly<Record<string, unknown>>,
  problems: Problem[],
): TopologyRead {
  checkKeys(stack, raw, allKeys, values, problems);
  const mode = parseMode(raw, problems);
  const backend = parseBackend(raw, problems);
  const mtu = parseMtu(raw, problems);
  const nets = parseNetworks(raw, mode, problems);
  const hostOffset = parseHostOffset(raw, problems);
  const { hosts, written } = parseHosts(raw, { ...nets, hostOffset, backend }, problems);
  const pods = parsePods(raw, hosts, written, problems);
  const kubernetes = parseKubernetes(raw, { backend, hosts, pods }, problems);
  const routeReflectors = parseRouteReflectors(raw, hosts, written, mode, problems);
  const outside = parseOutside(raw, nets, hosts, mode, problems);
  if (nets.pods) checkPoolCapacity(raw, { ...nets, pods: nets.pods }, hosts, pods, mode, problems);
  const { underlay, routed, services } = nets;
  if (raw.autodetect !== undefined)
    checkAutodetect(
      raw.autodetect,
      { hosts, pods: nets.pods, subnets: [underlay, routed].filter((n) => n !== undefined) },
      problems,
    );
  const read = { mode, explicitMtu: raw.mtu === undefined ? undefined : mtu, hosts };
  const routedOk = raw.routedCidr === undefined || routed !== undefined;
  if (
    problems.length > 0 ||
    !mode ||
    mtu === undefined ||
    !underlay ||
    !nets.pods ||
    !services ||
    !outside ||
    !routedOk
  )
    return read;
  const config: LabConfig = {
    stack,
    mode,
    backend,
    kubernetes,
    underlayCidr: underlay.toCidrString(),
    underlayPrefixLength: Number(underlay.cidrPrefix.getValue()),
    ...(routed
      ? { routed: { cidr: routed.toCidrString(), prefixLength: Number(routed.cidrPrefix.getValue()) } }
      : {}),
    mtu,
    podCidr: nets.pods.toCidrString(),
    serviceCidr: services.toCidrString(),
    hosts,
    pods,
    routeReflectors,
    outside,
  };
  return { ...read, config };
}

/** The mode, or undefined when it is not one (checks that need the mode are then skipped). */
function parseMode(raw: Raw, problems: Problem[]): Mode | undefined {
  const mode = raw.mode ?? DEFAULTS.mode;
  if (isMode(mode)) return mode;
  problems.push(
    problem(
      key("mode"),
      raw.mode,
      "unknown mode",
      `set one of ${MODES.join(", ")} (pulumi config set ${key("mode")} bgp)`,
    ),
  );
  return undefined;
}

function parseBackend(raw: Raw, problems: Problem[]): HostBackend {
  const backend = raw.backend ?? DEFAULTS.backend;
  if ((HOST_BACKENDS as readonly unknown[]).includes(backend)) return backend as HostBackend;
  problems.push(
    problem(
      key("backend"),
      raw.backend,
      "unknown host backend",
      `set one of ${HOST_BACKENDS.join(", ")}: netns (namespaces, the default) or vm (a QEMU VM per host)`,
    ),
  );
  return DEFAULTS.backend;
}

/** The underlay MTU (1500 when unset), or undefined when refused. */
function parseMtu(raw: Raw, problems: Problem[]): number | undefined {
  const mtu = raw.mtu === undefined ? DEFAULTS.mtu : wholeNumber(raw.mtu);
  if (mtu !== undefined && mtu >= UNDERLAY_MTU_MIN && mtu <= UNDERLAY_MTU_MAX) return mtu;
  problems.push(
    problem(
      key("mtu"),
      raw.mtu,
      `the underlay MTU must be an integer from ${UNDERLAY_MTU_MIN} to ${UNDERLAY_MTU_MAX}`,
      `leave it unset for 1500, or set e.g. ${UNDERLAY_MTU_MAX} for jumbo frames`,
    ),
  );
  return undefined;
}

/** The offset of the first computed host address; returned as written, so a refused one computes none. */
function parseHostOffset(raw: Raw, problems: Problem[]): number {
  const hostOffset = raw.hostOffset === undefined ? DEFAULTS.hostOffset : Number(raw.hostOffset);
  if (!Number.isInteger(hostOffset) || hostOffset < 1) {
    problems.push(
      problem(
        key("hostOffset"),
        raw.hostOffset,
        "the offset of the first host address must be a positive integer",
        "leave it unset (165, as in the seeds) or set e.g. 10",
      ),
    );
  }
  return hostOffset;
}

/**
 * Keys whose every check the topology stages make themselves (the variant stage, checking the variant as
 * a whole, sees some of them again): their problems come from the topology stages only, so one cause is
 * one line.
 */
const TOPOLOGY_KEYS = ["mode", "mtu", "underlayCidr", "serviceCidr", "podCidr", "hosts"].map(key);

/** Appends the variant's problems on keys no earlier problem names; its others only when nothing else did. */
function mergeVariantProblems(problems: Problem[], variant: readonly Problem[]): void {
  const dropped: Problem[] = [];
  const seen = new Set(problems.map((p) => p.field));
  for (const p of variant) {
    if (TOPOLOGY_KEYS.includes(p.field) || seen.has(p.field)) {
      dropped.push(p);
      continue;
    }
    seen.add(p.field);
    problems.push(p);
  }
  // Should the topology stages ever pass what the variant refuses on their keys, the refusal still names
  // its cause.
  if (problems.length === 0) problems.push(...dropped);
}
