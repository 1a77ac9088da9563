// Every check on a variant, collected: each problem names the field, the value seen and the fix.
import { IPv4CidrRange, Validator } from "ip-num";
import { parseAutodetectMethod } from "./autodetect-method.ts";
import { fieldLabel, type Field } from "./model.ts";
import { shown, type ManifestProblem } from "./problems.ts";
import {
  BACKENDS,
  DATASTORE_TYPES,
  ENCAP_MODES,
  ENCAP_OVERHEAD,
  encapOverhead,
  type CalicoVariant,
  type LabNetwork,
} from "./variant.ts";

/** The smallest MTU every IPv4 host must accept. */
const MIN_MTU = 576;
const AS_TRANS = 23456;

/**
 * `label` names a field in messages: by default the variant key and its manifest entry
 * (`blockSize (CALICO_IPV4POOL_BLOCK_SIZE)`); a stack's reader passes the user's own key instead.
 */
export function validateVariant(
  v: CalicoVariant,
  network?: LabNetwork,
  label: (field: Field) => string = fieldLabel,
): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const add = (field: Field, value: unknown, message: string, fix: string) =>
    problems.push({ field: label(field), value: shown(value), message, fix });
  const raw = v as unknown as Record<string, unknown>;

  // Backend and datastore.
  if (!(BACKENDS as readonly unknown[]).includes(v.backend)) {
    add(
      "backend",
      v.backend,
      "unknown networking backend",
      `use one of ${BACKENDS.map((b) => `"${b}"`).join(", ")}`,
    );
  }
  if (!(DATASTORE_TYPES as readonly unknown[]).includes(v.datastoreType)) {
    add("datastoreType", v.datastoreType, "unknown datastore", `use "kubernetes" or "etcdv3"`);
  }

  // Encapsulation modes.
  const ipip = checkEncap("ipipMode", raw.ipipMode, add);
  const vxlan = checkEncap("vxlanMode", raw.vxlanMode, add);
  const ipipOn = ipip !== undefined && ipip !== "Never";
  const vxlanOn = vxlan !== undefined && vxlan !== "Never";
  if (ipipOn && vxlanOn) {
    add(
      "vxlanMode",
      vxlan,
      `the default pool cannot use IPIP (${ipip}) and VXLAN (${vxlan}) at once; calico-node refuses such a pool`,
      `pick one: the "vxlan" preset (ipipMode "Never", vxlanMode "Always") or the "ipip" preset (vxlanMode "Never")`,
    );
  }
  for (const [field, on, mode] of [
    ["felixIpipEnabled", ipipOn, ipip],
    ["felixVxlanEnabled", vxlanOn, vxlan],
  ] as const) {
    const val = raw[field];
    if (val !== null && typeof val !== "boolean") {
      add(field, val, "not a boolean", `use true, false, or null to leave it to Felix`);
    } else if (val === false && on) {
      const what = field === "felixIpipEnabled" ? "IPIP" : "VXLAN";
      add(
        field,
        val,
        `the pool encapsulates with ${what} (${mode}) but Felix's ${what} is disabled, so no tunnel device is made and cross-host pod traffic is dropped`,
        `set ${field} to true or null, or set ${field === "felixIpipEnabled" ? "ipipMode" : "vxlanMode"} to "Never"`,
      );
    }
  }
  if ((BACKENDS as readonly unknown[]).includes(v.backend)) {
    if (v.backend !== "bird" && ipipOn) {
      add(
        "backend",
        v.backend,
        `IPIP routes are programmed by BIRD, which calico_backend "${v.backend}" does not run`,
        `set backend "bird" for IPIP, or use VXLAN (preset "vxlan")`,
      );
    } else if (v.backend === "vxlan" && vxlan === "Never") {
      add(
        "backend",
        v.backend,
        `backend "vxlan" runs no BGP, so with vxlanMode "Never" no routes to other hosts' pods exist`,
        `set vxlanMode "Always" (preset "vxlan"), or backend "bird" for BGP`,
      );
    }
  }

  // Pool.
  const blockOk = checkInt(
    "blockSize",
    raw.blockSize,
    20,
    32,
    "use a block size from 20 to 32; 26 is Calico's default",
    add,
  );
  checkPool(v, network, blockOk ? v.blockSize : undefined, add);
  if (typeof raw.natOutgoing !== "boolean") {
    add(
      "natOutgoing",
      raw.natOutgoing,
      "not a boolean",
      `use true (pods reach outside the pool via SNAT) or false`,
    );
  }

  // MTUs.
  const underlay = network?.underlayMtu;
  const vethOk = checkInt(
    "vethMtu",
    raw.vethMtu,
    0,
    65535,
    "use a whole number of bytes (0 = auto-detect)",
    add,
  );
  if (vethOk && v.vethMtu !== 0 && v.vethMtu < MIN_MTU) {
    add("vethMtu", v.vethMtu, `below the IPv4 minimum of ${MIN_MTU}`, `use at least ${MIN_MTU}`);
  }
  if (vethOk && underlay !== undefined && v.vethMtu > 0) {
    // An invalid mode is already a problem; count it as no encapsulation so the limit is still checked.
    const over = encapOverhead({ ipipMode: ipip ?? "Never", vxlanMode: vxlan ?? "Never" });
    const limit = underlay - over;
    if (v.vethMtu > limit) {
      const why =
        over === 0
          ? "the underlay MTU"
          : `underlay MTU ${underlay} minus ${over} bytes of ${vxlanOn ? "VXLAN" : "IPIP"} overhead`;
      add(
        "vethMtu",
        v.vethMtu,
        `too large for the underlay: pod packets may be at most ${limit} (${why})`,
        `set vethMtu to ${limit} or less`,
      );
    }
  }
  for (const [field, on, overhead, name] of [
    ["ipipMtu", ipipOn, ENCAP_OVERHEAD.ipip, "IPIP"],
    ["vxlanMtu", vxlanOn, ENCAP_OVERHEAD.vxlan, "VXLAN"],
  ] as const) {
    const ok = checkInt(field, raw[field], 0, 65535, "use a whole number of bytes", add);
    if (!ok) continue;
    const mtu = raw[field] as number;
    if (mtu !== 0 && mtu < MIN_MTU)
      add(field, mtu, `below the IPv4 minimum of ${MIN_MTU}`, `use at least ${MIN_MTU}`);
    else if (on && underlay !== undefined && mtu > underlay - overhead) {
      add(
        field,
        mtu,
        `too large for the underlay: the ${name} tunnel adds ${overhead} bytes to a ${underlay}-byte underlay MTU`,
        `set ${field} to ${underlay - overhead} or less`,
      );
    }
  }

  // Node address.
  if (
    checkInt("asNumber", raw.asNumber, 1, 4294967295, "use a private AS such as 64512 (64512-65534)", add)
  ) {
    if (v.asNumber === AS_TRANS) {
      add(
        "asNumber",
        v.asNumber,
        "23456 is AS_TRANS, reserved for 4-byte AS transition",
        "use a private AS such as 64512",
      );
    }
  }
  checkIp(v, network, add);

  // Datastore.
  checkDatastore(v, add);
  return problems;
}

type Add = (field: Field, value: unknown, message: string, fix: string) => void;

function checkInt(field: Field, val: unknown, min: number, max: number, fix: string, add: Add): boolean {
  if (typeof val !== "number" || !Number.isInteger(val)) {
    add(field, val, "not a whole number", fix);
    return false;
  }
  if (val < min || val > max) {
    add(field, val, `out of range: must be ${min} to ${max}`, fix);
    return false;
  }
  return true;
}

function checkEncap(
  field: "ipipMode" | "vxlanMode",
  val: unknown,
  add: Add,
): CalicoVariant["ipipMode"] | undefined {
  if (val === "off") return "Never";
  if ((ENCAP_MODES as readonly unknown[]).includes(val)) return val as CalicoVariant["ipipMode"];
  if (typeof val === "boolean") {
    add(
      field,
      val,
      `a boolean, not a mode: an unquoted ${val ? "on/yes/true" : "off/no/false"} in YAML 1.1 (Kubernetes, many config loaders) reads as ${val}`,
      `write the mode as a quoted string: "${val ? "Always" : "Never"}"`,
    );
    return undefined;
  }
  const lower = typeof val === "string" ? val.toLowerCase().replace(/[-_ ]/g, "") : "";
  const guess = lower === "off" ? "Never" : ENCAP_MODES.find((m) => m.toLowerCase() === lower);
  add(
    field,
    val,
    "unknown encapsulation mode",
    guess
      ? `write "${guess}" (modes are case-sensitive here)`
      : `use "Always", "CrossSubnet" or "Never" ("off" is accepted as the legacy "Never")`,
  );
  return undefined;
}

function cidrOf(s: string): IPv4CidrRange | undefined {
  return Validator.isValidIPv4CidrNotation(s)[0] ? IPv4CidrRange.fromCidr(s) : undefined;
}

function checkPool(
  v: CalicoVariant,
  network: LabNetwork | undefined,
  blockSize: number | undefined,
  add: Add,
) {
  const cidr = v.podCidr as unknown;
  if (typeof cidr !== "string" || !Validator.isValidIPv4CidrNotation(cidr)[0]) {
    add(
      "podCidr",
      cidr,
      "not an IPv4 network in CIDR notation",
      "write it as a.b.c.d/len, e.g. 10.244.0.0/16",
    );
    return;
  }
  const range = IPv4CidrRange.fromCidr(cidr);
  const prefix = Number(range.cidrPrefix.getValue());
  if (!Validator.isValidIPv4CidrRange(cidr)[0]) {
    add(
      "podCidr",
      cidr,
      "host bits are set: this is an address inside a network, not the network",
      `use the network address ${range.getFirst().toString()}/${prefix}`,
    );
    return;
  }
  if (blockSize !== undefined && prefix > blockSize) {
    add(
      "podCidr",
      cidr,
      `a /${prefix} pool cannot hold even one /${blockSize} block (blockSize ${blockSize})`,
      `use a pool of /${blockSize} or larger, or blockSize ${prefix} or more`,
    );
  }
  if (!network) return;
  for (const [name, other] of [
    ["underlay", network.underlayCidr],
    ["service CIDR", network.serviceCidr],
  ] as const) {
    const o = cidrOf(other);
    if (o && range.isOverlapping(o)) {
      add(
        "podCidr",
        cidr,
        `overlaps the ${name} ${other}: pod routes would shadow ${name === "underlay" ? "host" : "service"} addresses`,
        `pick a pool outside ${other}, e.g. 10.244.0.0/16`,
      );
    }
  }
}

function checkIp(v: CalicoVariant, network: LabNetwork | undefined, add: Add) {
  const ip = v.ip as unknown;
  if (ip !== "autodetect" && ip !== "none") {
    const text = typeof ip === "string" ? ip : "";
    const [addr, len] = text.split("/");
    const okAddr = addr !== undefined && Validator.isValidIPv4String(addr)[0];
    const okLen = len === undefined || (/^[0-9]+$/.test(len) && Number(len) <= 32);
    if (!okAddr || !okLen) {
      add(
        "ip",
        ip,
        "not autodetect, none or an IPv4 address",
        `use "autodetect" (with autodetect=...), "none", or a.b.c.d[/len]`,
      );
    } else if (network) {
      const u = cidrOf(network.underlayCidr);
      if (u && !u.contains(IPv4CidrRange.fromCidr(`${addr}/32`))) {
        add(
          "ip",
          ip,
          `not inside the underlay ${network.underlayCidr}`,
          `use an underlay address, or "autodetect"`,
        );
      }
    }
  }
  const method = v.autodetect as unknown;
  if (typeof method !== "string") {
    add("autodetect", method, "not a string", `use e.g. "first-found" or "can-reach=192.168.19.165"`);
    return;
  }
  const parsed = parseAutodetectMethod(method);
  if (!parsed.ok) for (const p of parsed.problems) add("autodetect", method, p.message, p.fix);
  else if (ip !== "autodetect" && parsed.method.kind !== "first-found") {
    add(
      "autodetect",
      method,
      `has no effect: calico-node only autodetects when IP is "autodetect" (it is ${shown(ip)})`,
      `set ip to "autodetect", or drop the autodetection method`,
    );
  }
}

function checkDatastore(v: CalicoVariant, add: Add) {
  const eps = v.etcdEndpoints as unknown;
  const tls = { etcdCaCertFile: v.etcdCaCertFile, etcdCertFile: v.etcdCertFile, etcdKeyFile: v.etcdKeyFile };
  if (!Array.isArray(eps) || eps.some((e) => typeof e !== "string")) {
    add("etcdEndpoints", eps, "not a list of URLs", `use e.g. ["http://192.168.19.165:2379"]`);
    return;
  }
  for (const [f, val] of Object.entries(tls) as [Field, unknown][]) {
    if (typeof val !== "string") add(f, val, "not a string", `use an absolute file path, or "" for none`);
    else if (val !== "" && !val.startsWith("/"))
      add(f, val, "not an absolute path", `use an absolute path such as /calico-secrets/etcd-ca`);
  }
  if (v.datastoreType === "kubernetes") {
    if (eps.length > 0) {
      add(
        "etcdEndpoints",
        eps.join(","),
        "set, but the manifest uses the Kubernetes datastore",
        "drop it, or render templates/calico-etcd.yaml",
      );
    }
    return;
  }
  if (v.datastoreType !== "etcdv3") return;
  if (eps.length === 0) {
    add(
      "etcdEndpoints",
      "",
      "the etcd datastore needs at least one endpoint",
      `set e.g. "http://192.168.19.165:2379"`,
    );
  }
  const anyTls = v.etcdCertFile !== "" || v.etcdKeyFile !== "";
  for (const e of eps as string[]) {
    const placeholder = /<[A-Za-z_]+>/.exec(e);
    if (placeholder) {
      // Upstream calico-etcd.yaml ships etcd_endpoints: "http://<ETCD_IP>:<ETCD_PORT>" to be filled in.
      add(
        "etcdEndpoints",
        e,
        `still upstream's placeholder ${placeholder[0]}: calico-etcd.yaml leaves the etcd address for you to fill in`,
        "pass your etcd's client URLs: scripts/render-manifest --etcd-endpoints http://<etcd host>:2379 " +
          "(comma-separated for several; the lab's etcd is http://192.168.19.165:2379)",
      );
      continue;
    }
    let url: URL | undefined;
    try {
      url = new URL(e);
    } catch {
      url = undefined;
    }
    if (
      !url ||
      !["http:", "https:"].includes(url.protocol) ||
      url.hostname === "" ||
      url.pathname.length > 1
    ) {
      add(
        "etcdEndpoints",
        e,
        "not an etcd endpoint URL",
        "write scheme://host:port, e.g. http://192.168.19.165:2379",
      );
    } else if (url.port === "") {
      add("etcdEndpoints", e, "has no port", `add the client port: ${url.protocol}//${url.hostname}:2379`);
    } else if (anyTls && url.protocol === "http:") {
      add("etcdEndpoints", e, "plain http although client certificates are set", `use https://${url.host}`);
    }
  }
  if ((v.etcdCertFile === "") !== (v.etcdKeyFile === "")) {
    const [missing, given] =
      v.etcdCertFile === ""
        ? (["etcdCertFile", "etcdKeyFile"] as const)
        : (["etcdKeyFile", "etcdCertFile"] as const);
    add(
      missing,
      "",
      `${given} is set but ${missing} is not: a client certificate needs both`,
      `set ${missing} too, or clear ${given}`,
    );
  }
}
