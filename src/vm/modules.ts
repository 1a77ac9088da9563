// Kernel modules for the VM: which ones, and in which order to insmod them (dependencies first), read
// from the kernel package's own modules.dep / modules.builtin (written by `depmod -b`). Pure.

/** Module names as the kernel spells them: '-' and '_' are the same character. */
export function normalizeModuleName(name: string): string {
  return name.replace(/-/g, "_");
}

/** "kernel/net/ipv4/ipip.ko" (or .ko.xz/.ko.zst/.ko.gz) → "ipip". */
export function moduleNameFromPath(path: string): string {
  const base = path.slice(path.lastIndexOf("/") + 1);
  return normalizeModuleName(base.replace(/\.ko(\.(xz|zst|gz))?$/, ""));
}

export interface ModuleEntry {
  name: string;
  /** Path relative to /lib/modules/<version>/. */
  path: string;
  /** Direct and indirect dependencies, by name. */
  deps: string[];
}

/** Parses modules.dep: "path: dep-path dep-path…" a line. */
export function parseModulesDep(text: string): Map<string, ModuleEntry> {
  const out = new Map<string, ModuleEntry>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon < 0) throw new Error(`modules.dep: malformed line "${line}"`);
    const path = line.slice(0, colon).trim();
    const deps = line
      .slice(colon + 1)
      .split(/\s+/)
      .filter(Boolean)
      .map(moduleNameFromPath);
    out.set(moduleNameFromPath(path), { name: moduleNameFromPath(path), path, deps });
  }
  return out;
}

/** Parses modules.builtin: one "kernel/…/name.ko" a line. */
export function parseModulesBuiltin(text: string): Set<string> {
  return new Set(
    text
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .map(moduleNameFromPath),
  );
}

/** Parses modules.softdep: "softdep <mod> pre: a b post: c" → <mod> → its "pre:" modules (or aliases). */
export function parseModulesSoftdep(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split("\n")) {
    const words = raw.trim().split(/\s+/);
    if (words[0] !== "softdep" || !words[1]) continue;
    const name = normalizeModuleName(words[1]);
    let section = "";
    for (const w of words.slice(2)) {
      if (w === "pre:" || w === "post:") section = w;
      else if (section === "pre:") out.set(name, [...(out.get(name) ?? []), w]);
    }
  }
  return out;
}

/** Parses modules.alias, plain names only (no wildcards): alias → modules that provide it, in file order. */
export function parseModulesAlias(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split("\n")) {
    const m = /^alias\s+(\S+)\s+(\S+)\s*$/.exec(raw.trim());
    if (!m?.[1] || !m[2] || /[*?[]/.test(m[1])) continue;
    out.set(m[1], [...(out.get(m[1]) ?? []), normalizeModuleName(m[2])]);
  }
  return out;
}

export interface ModuleIndex {
  dep: ReadonlyMap<string, ModuleEntry>;
  builtin: ReadonlySet<string>;
  /** Soft "pre:" dependencies (optional: loaded first when they resolve). */
  softdep?: ReadonlyMap<string, readonly string[]>;
  alias?: ReadonlyMap<string, readonly string[]>;
}

/**
 * A softdep names a module or an alias ("crc32c"); among an alias's providers take the portable *_generic
 * one (CPU-specific ones such as crc32c_intel refuse to load on CPUs without the instructions).
 */
export function resolveSoftdep(index: ModuleIndex, name: string): string | undefined {
  const n = normalizeModuleName(name);
  if (index.dep.has(n) || index.builtin.has(n)) return n;
  const providers = (index.alias?.get(name) ?? []).filter((p) => index.dep.has(p) || index.builtin.has(p));
  return providers.find((p) => p.endsWith("_generic")) ?? providers[0];
}

export interface LoadPlan {
  /** Modules to insmod, in this order (each after all its dependencies). */
  order: ModuleEntry[];
  /** Requested modules that are built into the kernel (nothing to load). */
  builtin: string[];
}

/**
 * The insmod order for `wanted` and everything they depend on: a depth-first post-order over modules.dep,
 * so each module comes after its dependencies (and after its softdeps' "pre:" modules, when they resolve);
 * requested order is kept where dependencies allow.
 * Throws on a module that is neither a module nor built in, and on a dependency cycle.
 */
export function resolveLoadOrder(index: ModuleIndex, wanted: readonly string[]): LoadPlan {
  const { dep, builtin } = index;
  const order: ModuleEntry[] = [];
  const builtins: string[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = (name: string, chain: string[]): void => {
    if (done.has(name)) return;
    const entry = dep.get(name);
    if (!entry) {
      if (builtin.has(name)) {
        done.add(name);
        builtins.push(name);
        return;
      }
      const via = chain.length ? ` (needed by ${chain.join(" → ")})` : "";
      throw new Error(`kernel module "${name}" is neither in modules.dep nor built in${via}`);
    }
    if (visiting.has(name))
      throw new Error(`kernel module dependency cycle: ${[...chain, name].join(" → ")}`);
    visiting.add(name);
    for (const soft of index.softdep?.get(name) ?? []) {
      const s = resolveSoftdep(index, soft);
      if (s && !visiting.has(s)) visit(s, [...chain, name]);
    }
    // modules.dep lists the deepest dependencies last: visit from the end so they load first.
    for (const d of [...entry.deps].reverse()) visit(d, [...chain, name]);
    visiting.delete(name);
    done.add(name);
    order.push(entry);
  };
  for (const w of wanted) visit(normalizeModuleName(w), []);
  return { order, builtin: builtins };
}

/** Modules that mount the host's root over 9p with an overlay: needed before anything else runs. */
export const BOOT_MODULES: readonly string[] = [
  "virtio_pci",
  "9pnet_virtio",
  "9p",
  "overlay",
  "virtio_rng",
  "virtio_net",
];

/** What the lab needs: tunnels (IPIP, VXLAN), veth, bridges, tun. */
export const LAB_MODULES: readonly string[] = ["ipip", "vxlan", "veth", "bridge", "tun"];

/**
 * What `iptables` (the nf_tables flavour, Debian's default) needs for the lab: filter/nat tables, MASQUERADE,
 * SNAT/DNAT, conntrack, addrtype, comment and mark matches. Anything else is autoloaded by the kernel
 * through /sbin/modprobe, which works inside the VM (the kernel's /lib/modules is bound in).
 */
export const NETFILTER_MODULES: readonly string[] = [
  "nf_tables",
  "nft_compat",
  "nft_chain_nat",
  "nft_masq",
  "xt_MASQUERADE",
  "xt_nat",
  "xt_conntrack",
  "xt_addrtype",
  "xt_comment",
  "xt_mark",
  "xt_tcpudp",
];

export const DEFAULT_MODULES: readonly string[] = [...BOOT_MODULES, ...LAB_MODULES, ...NETFILTER_MODULES];
