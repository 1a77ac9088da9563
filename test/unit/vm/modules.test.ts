import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DEFAULT_MODULES,
  moduleNameFromPath,
  parseModulesAlias,
  parseModulesBuiltin,
  parseModulesDep,
  parseModulesSoftdep,
  resolveLoadOrder,
} from "../../../src/vm/modules.ts";

// Lines as Debian 6.1's depmod writes them (trimmed to what the tests use).
const DEP = `kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/net/9p/9pnet.ko:
kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/fs/netfs/netfs.ko:
kernel/fs/fscache/fscache.ko: kernel/fs/netfs/netfs.ko
kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko
kernel/net/ipv4/tunnel4.ko:
kernel/net/ipv4/ip_tunnel.ko:
kernel/net/ipv4/ipip.ko: kernel/net/ipv4/tunnel4.ko kernel/net/ipv4/ip_tunnel.ko
kernel/drivers/char/hw_random/virtio-rng.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/lib/libcrc32c.ko:
kernel/crypto/crc32c_generic.ko:
kernel/arch/x86/crypto/crc32c-intel.ko:
kernel/net/netfilter/nfnetlink.ko:
kernel/net/netfilter/nf_tables.ko: kernel/net/netfilter/nfnetlink.ko kernel/lib/libcrc32c.ko
`;

const index = () => ({
  dep: parseModulesDep(DEP),
  builtin: parseModulesBuiltin("kernel/net/ipv6/ipv6.ko\nkernel/fs/ext4/ext4.ko\n"),
  softdep: parseModulesSoftdep("# Soft dependencies\nsoftdep libcrc32c pre: crc32c\nsoftdep cifs gcm\n"),
  alias: parseModulesAlias(
    "alias crc32c crc32c_intel\nalias crc32c crc32c_generic\nalias pci:v00001AF4d*sv*sd*bc*sc*i* virtio_pci\n",
  ),
});

const names = (wanted: string[]) => resolveLoadOrder(index(), wanted).order.map((m) => m.name);

describe("kernel module load order", () => {
  it("names modules as the kernel does: '-' is '_', compressed suffixes dropped", () => {
    assert.equal(moduleNameFromPath("kernel/drivers/char/hw_random/virtio-rng.ko"), "virtio_rng");
    assert.equal(moduleNameFromPath("kernel/net/ipv4/ipip.ko.xz"), "ipip");
    assert.equal(moduleNameFromPath("kernel/fs/9p/9p.ko.zst"), "9p");
  });

  it("loads virtio_pci after the modules it needs, deepest first (the order the notes found by hand)", () => {
    assert.deepEqual(names(["virtio_pci"]), [
      "virtio_ring",
      "virtio",
      "virtio_pci_modern_dev",
      "virtio_pci_legacy_dev",
      "virtio_pci",
    ]);
  });

  it("gives the 9p root chain and ipip each once, dependencies first (modprobe's order: list read from the end)", () => {
    const order = names(["virtio_pci", "9pnet_virtio", "9p", "ipip"]);
    assert.deepEqual(order.slice(5), [
      "9pnet",
      "9pnet_virtio",
      "netfs",
      "fscache",
      "9p",
      "ip_tunnel",
      "tunnel4",
      "ipip",
    ]);
    assert.equal(new Set(order).size, order.length);
    for (const [i, m] of order.entries()) {
      for (const d of index().dep.get(m)?.deps ?? []) assert.ok(order.indexOf(d) < i, `${d} before ${m}`);
    }
  });

  it("accepts dashed names and finds virtio-rng.ko", () => {
    assert.deepEqual(names(["virtio-rng"]), ["virtio_ring", "virtio", "virtio_rng"]);
  });

  it("loads a softdep's pre-module first, choosing the portable *_generic provider of an alias", () => {
    assert.deepEqual(names(["nf_tables"]), ["crc32c_generic", "libcrc32c", "nfnetlink", "nf_tables"]);
  });

  it("reports built-in modules instead of loading them", () => {
    const plan = resolveLoadOrder(index(), ["ipv6", "ipip"]);
    assert.deepEqual(plan.builtin, ["ipv6"]);
    assert.deepEqual(
      plan.order.map((m) => m.path),
      ["kernel/net/ipv4/ip_tunnel.ko", "kernel/net/ipv4/tunnel4.ko", "kernel/net/ipv4/ipip.ko"],
    );
  });

  it("fails clearly on an unknown module, naming who needed it", () => {
    const idx = { ...index(), dep: parseModulesDep("kernel/a.ko: kernel/missing.ko\n") };
    assert.throws(
      () => resolveLoadOrder(idx, ["a"]),
      /"missing" is neither in modules.dep nor built in \(needed by a\)/,
    );
    assert.throws(() => resolveLoadOrder(index(), ["gre"]), /"gre" is neither/);
  });

  it("fails on a dependency cycle instead of looping", () => {
    const idx = {
      dep: parseModulesDep("kernel/a.ko: kernel/b.ko\nkernel/b.ko: kernel/a.ko\n"),
      builtin: new Set<string>(),
    };
    assert.throws(() => resolveLoadOrder(idx, ["a"]), /cycle: a → b → a/);
  });

  it("asks for what the lab needs by default", () => {
    for (const m of [
      "9p",
      "9pnet_virtio",
      "virtio_pci",
      "overlay",
      "ipip",
      "vxlan",
      "veth",
      "bridge",
      "tun",
      "nf_tables",
      "xt_MASQUERADE",
    ]) {
      assert.ok(DEFAULT_MODULES.includes(m), m);
    }
  });
});
