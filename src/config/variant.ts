// Stage "variant": the Calico variant a stack asks for, from the stages before it (mode, underlay MTU,
// networks, the etcd host) and the variant's own keys (blockSize, natOutgoing, asNumber, autodetect).
// It starts from LAB_DEFAULTS (templates/calico-etcd.yaml as written), applies the mode's preset, then the
// explicit keys; an explicit underlay MTU derives the pod and tunnel MTUs, else the mode's or the template's.
import type { Field } from "../manifest/model.ts";
import { validateVariant } from "../manifest/validate.ts";
import {
  LAB_DEFAULTS,
  LAB_NETWORK,
  mtusFor,
  resolveVariant,
  type CalicoVariant,
  type LabNetwork,
  type VariantSpec,
} from "../manifest/variant.ts";
import { MODE_SPECS, type Mode } from "../modes.ts";
import type { Problem } from "../problems.ts";
import { etcdEndpointOf, etcdHostOf } from "./etcd.ts";
import { key, type HostConfig, type Raw } from "./model.ts";
import { valueReaders } from "./values.ts";

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
  return key(own[field] ?? "mode");
}

export interface VariantInputs {
  /** The mode read (its default when calico-lab:mode was refused). */
  mode: Mode;
  /** The underlay MTU when calico-lab:mtu is set and valid. */
  mtu: number | undefined;
  /** The hosts read: etcd runs on the first (src/config/etcd.ts). */
  hosts: readonly HostConfig[];
}

export interface VariantRead {
  variant: CalicoVariant;
  network: LabNetwork;
}

/**
 * The variant and the network it is checked against. The networks are taken as written (the network
 * stage refuses bad ones on the same keys), so that the variant's checks of other keys still run.
 */
export function readVariant(raw: Raw, inputs: VariantInputs, problems: Problem[]): VariantRead {
  const { str, int, bool } = valueReaders(raw, problems);
  const { mode, mtu } = inputs;
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
  const etcd = etcdHostOf(inputs);
  if (etcd) overrides.etcdEndpoints = [etcdEndpointOf(etcd)];

  const { preset, defaultMtus } = MODE_SPECS[mode];
  // Without an explicit underlay MTU the template's 1440 stays, unless the mode says otherwise.
  const mtus =
    mtu !== undefined
      ? mtusFor(network.underlayMtu, resolveVariant(LAB_DEFAULTS, preset))
      : (defaultMtus ?? {});
  const variant = resolveVariant(LAB_DEFAULTS, preset, mtus, overrides);
  problems.push(...validateVariant(variant, network, stackKeyOf));
  return { variant, network };
}
