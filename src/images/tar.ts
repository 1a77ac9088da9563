// A tar writer for image layers and image archives (POSIX ustar, with pax headers for names that do not
// fit). Pure and deterministic: mtime 0, uid/gid 0, no user or group names, entries sorted by path, every
// parent directory written before its children, so the same entries always give the same bytes (and the
// same layer digest).

export type TarEntry =
  | { type: "dir"; path: string; mode?: number }
  | { type: "file"; path: string; data: FileData; mode?: number }
  | { type: "symlink"; path: string; target: string };

/** A file's content: text (UTF-8), bytes, or bytes in pieces (a layer inside an image archive). */
export type FileData = string | Uint8Array | readonly Uint8Array[];

/** The pieces of a file's content, without copying. */
export function dataChunks(data: FileData): Buffer[] {
  if (typeof data === "string") return [Buffer.from(data, "utf8")];
  const list: readonly Uint8Array[] = data instanceof Uint8Array ? [data] : data;
  return list.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength));
}

const BLOCK = 512;
const NAME_MAX = 100;
const PREFIX_MAX = 155;
const LINKNAME_MAX = 100;
/** The largest size an 11-digit octal field holds (8 GiB - 1); larger would need a pax size record. */
const SIZE_MAX = 0o77777777777;

/** A path inside an archive: relative, no empty, "." or ".." components, no NUL. */
export function normalizeTarPath(path: string): string {
  const p = path.replace(/^\/+/, "").replace(/\/+$/, "");
  if (!p || p.includes("\0") || p.split("/").some((s) => s === "" || s === "." || s === "..")) {
    throw new Error(`tar: bad path "${path}"`);
  }
  return p;
}

function octal(n: number, width: number): string {
  if (!Number.isInteger(n) || n < 0 || n >= 8 ** (width - 1))
    throw new Error(`tar: field out of range: ${n}`);
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

/** Splits a name into ustar's prefix and name fields at a "/", or null when it cannot fit. */
export function splitUstarName(name: string): { prefix: string; name: string } | null {
  if (Buffer.byteLength(name) <= NAME_MAX) return { prefix: "", name };
  for (let i = name.indexOf("/"); i >= 0; i = name.indexOf("/", i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) > PREFIX_MAX) break;
    if (Buffer.byteLength(rest) <= NAME_MAX && rest !== "") return { prefix, name: rest };
  }
  return null;
}

interface Header {
  name: string;
  prefix: string;
  mode: number;
  size: number;
  type: "0" | "2" | "5" | "x";
  linkname: string;
}

function headerBlock(h: Header): Buffer {
  const b = Buffer.alloc(BLOCK);
  const put = (s: string, at: number, len: number) => {
    const bytes = Buffer.from(s, "utf8");
    if (bytes.length > len) throw new Error(`tar: field too long: ${s}`);
    bytes.copy(b, at);
  };
  put(h.name, 0, NAME_MAX);
  put(octal(h.mode, 8), 100, 8);
  put(octal(0, 8), 108, 8); // uid
  put(octal(0, 8), 116, 8); // gid
  put(octal(h.size, 12), 124, 12);
  put(octal(0, 12), 136, 12); // mtime
  put(h.type, 156, 1);
  put(h.linkname, 157, LINKNAME_MAX);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  put(octal(0, 8), 329, 8); // devmajor
  put(octal(0, 8), 337, 8); // devminor
  put(h.prefix, 345, PREFIX_MAX);
  // The checksum is computed with its own field read as spaces.
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
  return b;
}

/** One pax record: "<length> <key>=<value>\n", the length counting its own digits. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + 1;
  while (len !== bodyLen + String(len).length) len = bodyLen + String(len).length;
  return `${len}${body}`;
}

const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/** The header blocks (a pax header first when the name or link target does not fit ustar) of one entry. */
function headers(
  path: string,
  type: "0" | "2" | "5",
  mode: number,
  size: number,
  linkname: string,
): Buffer[] {
  if (size > SIZE_MAX) throw new Error(`tar: ${path} is too large (${size} bytes)`);
  const name = type === "5" ? `${path}/` : path;
  const split = splitUstarName(name);
  const longLink = Buffer.byteLength(linkname) > LINKNAME_MAX;
  const out: Buffer[] = [];
  if (split === null || longLink) {
    const records =
      (split === null ? paxRecord("path", name) : "") + (longLink ? paxRecord("linkpath", linkname) : "");
    const data = Buffer.from(records, "utf8");
    const base = path.split("/").at(-1)!.slice(0, 80);
    out.push(
      headerBlock({
        name: `PaxHeaders/${base}`,
        prefix: "",
        mode: 0o644,
        size: data.length,
        type: "x",
        linkname: "",
      }),
      data,
      padding(data.length),
    );
  }
  // With a pax path, the ustar name is a truncated stand-in that readers of pax ignore.
  const fallback = split ?? { prefix: "", name: Buffer.from(name).subarray(0, NAME_MAX).toString("utf8") };
  out.push(
    headerBlock({
      name: fallback.name,
      prefix: fallback.prefix,
      mode,
      size,
      type,
      linkname: longLink ? "" : linkname,
    }),
  );
  return out;
}

function sameEntry(a: TarEntry, b: TarEntry): boolean {
  if (a.type === "symlink" || b.type === "symlink")
    return a.type === "symlink" && b.type === "symlink" && a.target === b.target;
  if (a.type === "file" && b.type === "file")
    return (
      (a.mode ?? 0o644) === (b.mode ?? 0o644) &&
      Buffer.concat(dataChunks(a.data)).equals(Buffer.concat(dataChunks(b.data)))
    );
  return false;
}

/**
 * Entries sorted by path, with any missing parent directory added (mode 0755). Identical duplicates are
 * merged; two different entries at one path, or an entry below a symlink, are refused.
 */
export function completeEntries(entries: readonly TarEntry[]): TarEntry[] {
  const byPath = new Map<string, TarEntry>();
  const add = (e: TarEntry) => {
    const prev = byPath.get(e.path);
    if (prev === undefined) byPath.set(e.path, e);
    else if (prev.type === "dir" && e.type === "dir") {
      // A directory without a mode (0755) gives way to one with a mode.
      if (prev.mode === undefined) byPath.set(e.path, e);
      else if (e.mode !== undefined && e.mode !== prev.mode)
        throw new Error(`tar: two different entries at "${e.path}"`);
    } else if (!sameEntry(prev, e)) throw new Error(`tar: two different entries at "${e.path}"`);
  };
  for (const e of entries) add({ ...e, path: normalizeTarPath(e.path) });
  for (const e of [...byPath.values()]) {
    const parts = e.path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const path = parts.slice(0, i).join("/");
      const parent = byPath.get(path);
      if (parent === undefined) byPath.set(path, { type: "dir", path });
      else if (parent.type !== "dir")
        throw new Error(`tar: "${e.path}" is below a ${parent.type} in the same archive`);
    }
  }
  // Plain path order puts every directory before what it contains (a prefix sorts first).
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The archive as a list of buffers (file data is referenced, not copied: an image archive holds layers
 * of hundreds of megabytes). Concatenated, they are the tar stream, ending with two zero blocks.
 */
export function tarChunks(entries: readonly TarEntry[]): Buffer[] {
  const out: Buffer[] = [];
  for (const e of completeEntries(entries)) {
    switch (e.type) {
      case "dir":
        out.push(...headers(e.path, "5", e.mode ?? 0o755, 0, ""));
        break;
      case "symlink":
        if (!e.target || e.target.includes("\0")) throw new Error(`tar: bad symlink target for "${e.path}"`);
        out.push(...headers(e.path, "2", 0o777, 0, e.target));
        break;
      case "file": {
        const data = dataChunks(e.data);
        const size = data.reduce((n, c) => n + c.length, 0);
        out.push(...headers(e.path, "0", e.mode ?? 0o644, size, ""), ...data, padding(size));
        break;
      }
    }
  }
  out.push(Buffer.alloc(2 * BLOCK));
  return out;
}

/** The archive as one buffer. */
export function writeTar(entries: readonly TarEntry[]): Buffer {
  return Buffer.concat(tarChunks(entries));
}
