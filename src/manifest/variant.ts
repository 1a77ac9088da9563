// The typed variant of a calico.yaml: every knob the lab (and its agent) reads from the manifest.
// A `CalicoVariant` is complete; a `VariantSpec` names only the knobs a caller wants to change.
import { MODE_SPECS, MODES, type Mode } from "../modes.ts";

export const ENCAP_MODES = ["Always", "CrossSubnet", "Never"] as const;
/** CALICO_IPV4POOL_IPIP / CALICO_IPV4POOL_VXLAN. `off` is accepted on input as the legacy alias of Never. */
export type EncapMode = (typeof ENCAP_MODES)[number];

export const BACKENDS = ["bird", "vxlan", "none"] as const;
/** calico_backend / CALICO_NETWORKING_BACKEND: which routing daemon calico-node runs. */
export type Backend = (typeof BACKENDS)[number];

export const DATASTORE_TYPES = ["kubernetes", "etcdv3"] as const;
export type DatastoreType = (typeof DATASTORE_TYPES)[number];

export interface CalicoVariant {
  /** CALICO_NETWORKING_BACKEND (usually via calico-config `calico_backend`). */
  backend: Backend;
  /** DATASTORE_TYPE. Read from the manifest; rendering cannot switch it (start from the other template). */
  datastoreType: DatastoreType;
  /** ETCD_ENDPOINTS, split on commas; empty when unset (Kubernetes datastore). */
  etcdEndpoints: string[];
  /** ETCD_CA_CERT_FILE; "" when TLS is not used. */
  etcdCaCertFile: string;
  /** ETCD_CERT_FILE (client certificate); "" when unset. */
  etcdCertFile: string;
  /** ETCD_KEY_FILE (client key); "" when unset. */
  etcdKeyFile: string;
  /** IP: "autodetect", "none", or an IPv4 address (optionally a.b.c.d/len). */
  ip: string;
  /** IP_AUTODETECTION_METHOD as written, e.g. "first-found", "can-reach=192.168.19.165". */
  autodetect: string;
  /** CALICO_IPV4POOL_IPIP (default pool only). */
  ipipMode: EncapMode;
  /** CALICO_IPV4POOL_VXLAN (default pool only). */
  vxlanMode: EncapMode;
  /** FELIX_IPINIPENABLED; null when the manifest does not set it (Felix decides). */
  felixIpipEnabled: boolean | null;
  /** FELIX_VXLANENABLED; null when unset. */
  felixVxlanEnabled: boolean | null;
  /** calico-config `veth_mtu`: the pod interface MTU (0 = auto-detect, v3.21+). */
  vethMtu: number;
  /** FELIX_IPINIPMTU (upstream binds it to veth_mtu). */
  ipipMtu: number;
  /** FELIX_VXLANMTU. */
  vxlanMtu: number;
  /** CALICO_IPV4POOL_CIDR (default pool only). */
  podCidr: string;
  /** CALICO_IPV4POOL_BLOCK_SIZE (default pool only), 20..32. */
  blockSize: number;
  /** CALICO_IPV4POOL_NAT_OUTGOING (default pool only). */
  natOutgoing: boolean;
  /** AS: this node's BGP AS number. */
  asNumber: number;
}

export type VariantSpec = Partial<CalicoVariant>;

/** The network around the manifest: used to validate a variant, never written into it. */
export interface LabNetwork {
  underlayCidr: string;
  serviceCidr: string;
  underlayMtu: number;
}

export const LAB_NETWORK: LabNetwork = {
  underlayCidr: "192.168.19.0/24",
  serviceCidr: "10.96.0.0/12",
  underlayMtu: 1500,
};

/** Bytes each encapsulation adds to a packet (outer IPv4 header; VXLAN adds UDP + VXLAN + inner Ethernet). */
export const ENCAP_OVERHEAD = { ipip: 20, vxlan: 50 } as const;

/** What calico-node / Felix use when the manifest does not set a knob at all. */
export const CALICO_DEFAULTS: CalicoVariant = {
  backend: "bird",
  datastoreType: "etcdv3",
  etcdEndpoints: [],
  etcdCaCertFile: "",
  etcdCertFile: "",
  etcdKeyFile: "",
  ip: "autodetect",
  autodetect: "first-found",
  ipipMode: "Never",
  vxlanMode: "Never",
  felixIpipEnabled: null,
  felixVxlanEnabled: null,
  vethMtu: 1440,
  ipipMtu: 1440,
  vxlanMtu: 1410,
  podCidr: "192.168.0.0/16",
  blockSize: 26,
  natOutgoing: true,
  asNumber: 64512,
};

/** The lab's variant: what templates/calico-etcd.yaml holds as written (etcd on the master, .165). */
export const LAB_DEFAULTS: CalicoVariant = {
  ...CALICO_DEFAULTS,
  datastoreType: "etcdv3",
  etcdEndpoints: ["http://192.168.19.165:2379"],
  ipipMode: "Always",
  podCidr: "10.244.0.0/16",
};

/**
 * The seed's variants, one per lab mode (src/modes.ts). Each names only what the seed changed, so rendering
 * a preset onto any manifest touches only those entries.
 */
export const PRESETS = Object.fromEntries(MODES.map((m) => [m, MODE_SPECS[m].preset])) as Record<
  Mode,
  VariantSpec
>;

/** Overlays specs left to right onto a complete base. */
export function resolveVariant(base: CalicoVariant, ...specs: VariantSpec[]): CalicoVariant {
  const out: CalicoVariant = { ...base, etcdEndpoints: [...base.etcdEndpoints] };
  for (const spec of specs) {
    for (const [k, v] of Object.entries(spec)) {
      if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
    }
  }
  return out;
}

/** The encapsulation overhead the pod MTU must leave room for under this variant. */
export function encapOverhead(v: Pick<CalicoVariant, "ipipMode" | "vxlanMode">): number {
  if (v.vxlanMode !== "Never") return ENCAP_OVERHEAD.vxlan;
  if (v.ipipMode !== "Never") return ENCAP_OVERHEAD.ipip;
  return 0;
}

/**
 * MTUs for an underlay MTU: pod MTU = underlay minus the active encapsulation; each tunnel MTU is the pod
 * MTU where that fits (so upstream's binding of FELIX_IPINIPMTU to veth_mtu stays intact), else its limit.
 */
export function mtusFor(
  underlayMtu: number,
  v: Pick<CalicoVariant, "ipipMode" | "vxlanMode">,
): Pick<CalicoVariant, "vethMtu" | "ipipMtu" | "vxlanMtu"> {
  const vethMtu = underlayMtu - encapOverhead(v);
  return {
    vethMtu,
    ipipMtu: Math.min(vethMtu, underlayMtu - ENCAP_OVERHEAD.ipip),
    vxlanMtu: Math.min(vethMtu, underlayMtu - ENCAP_OVERHEAD.vxlan),
  };
}
