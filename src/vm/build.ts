// Builds (or finds cached) the initramfs for a kernel: .tools/vm/initramfs/<key>.cpio, where the key covers
// the kernel package, the module list, busybox and the init scripts.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeCpio } from "./cpio.ts";
import { initramfsEntries, initramfsKey } from "./initramfs.ts";
import type { Kernel } from "./kernel.ts";
import type { LoadPlan } from "./modules.ts";
import {
  parseModulesAlias,
  parseModulesBuiltin,
  parseModulesDep,
  parseModulesSoftdep,
  resolveLoadOrder,
} from "./modules.ts";

export const BUSYBOX_CANDIDATES = ["/usr/bin/busybox", "/bin/busybox"];

/** True when an ELF64 file has no PT_INTERP program header (a static executable). */
export function elfIsStatic(buf: Uint8Array): boolean {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46) throw new Error("not an ELF file");
  if (b[4] !== 2) throw new Error("not a 64-bit ELF file");
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const off = phoff + i * phentsize;
    if (off + 4 > b.length) throw new Error("truncated ELF program headers");
    if (b.readUInt32LE(off) === 3) return false;
  }
  return true;
}

export async function readStaticBusybox(): Promise<Buffer> {
  for (const p of BUSYBOX_CANDIDATES) {
    if (!existsSync(p)) continue;
    const data = await readFile(p);
    if (elfIsStatic(data)) return data;
    throw new Error(`${p} is dynamically linked: the initramfs needs Debian's busybox-static`);
  }
  throw new Error("busybox not found: install Debian's busybox-static");
}

export async function loadPlan(kernel: Kernel, modules: readonly string[]): Promise<LoadPlan> {
  const read = (f: string): Promise<string> => readFile(join(kernel.modulesDir, f), "utf8");
  return resolveLoadOrder(
    {
      dep: parseModulesDep(await read("modules.dep")),
      builtin: parseModulesBuiltin(await read("modules.builtin")),
      softdep: parseModulesSoftdep(await read("modules.softdep")),
      alias: parseModulesAlias(await read("modules.alias")),
    },
    modules,
  );
}

/** The initramfs's path, building it when no cached one matches. */
export async function ensureInitramfs(
  cacheDir: string,
  kernel: Kernel,
  modules: readonly string[],
): Promise<string> {
  const busybox = await readStaticBusybox();
  const plan = await loadPlan(kernel, modules);
  const bbHash = createHash("sha256").update(busybox).digest("hex");
  const key = initramfsKey(
    kernel.id,
    plan.order.map((m) => m.name),
    bbHash,
  );
  const dir = join(cacheDir, "initramfs");
  const file = join(dir, `${kernel.release}-${key}.cpio`);
  if (existsSync(file)) return file;
  const mods = await Promise.all(
    plan.order.map(async (entry) => ({ entry, data: await readFile(join(kernel.modulesDir, entry.path)) })),
  );
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, writeCpio(initramfsEntries({ busybox, modules: mods })));
  await rename(tmp, file);
  return file;
}
