// A writer for the "newc" cpio format the kernel unpacks as an initramfs. Pure and deterministic (mtime 0,
// uid/gid 0, inode numbers by position), so the same inputs give the same bytes, and a device node such as
// /dev/console can be written without root.

export type CpioEntry =
  | { type: "dir"; path: string; mode?: number }
  | { type: "file"; path: string; data: Uint8Array | string; mode?: number }
  | { type: "symlink"; path: string; target: string }
  | { type: "chardev"; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`cpio: field out of range: ${n}`);
  return n.toString(16).padStart(8, "0");
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function header(
  ino: number,
  mode: number,
  nlink: number,
  size: number,
  rdevMajor: number,
  rdevMinor: number,
  nameSize: number,
): string {
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  return (
    "070701" + [ino, mode, 0, 0, nlink, 0, size, 0, 0, rdevMajor, rdevMinor, nameSize, 0].map(hex8).join("")
  );
}

function normalizePath(path: string): string {
  const p = path.replace(/^\/+/, "");
  if (!p || p.split("/").some((s) => s === "" || s === "." || s === "..")) {
    throw new Error(`cpio: bad path "${path}"`);
  }
  return p;
}

/** The archive: every entry in the given order, then the TRAILER!!! record. */
export function writeCpio(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  const seen = new Set<string>();
  const push = (hdr: string, name: string, data: Uint8Array): void => {
    const nameBuf = Buffer.from(name + "\0", "utf8");
    const head = Buffer.from(hdr, "ascii");
    parts.push(head, nameBuf, Buffer.alloc(pad4(head.length + nameBuf.length)));
    parts.push(Buffer.from(data), Buffer.alloc(pad4(data.length)));
  };
  entries.forEach((e, i) => {
    const name = normalizePath(e.path);
    if (seen.has(name)) throw new Error(`cpio: duplicate path "${name}"`);
    seen.add(name);
    const ino = i + 1;
    const nameSize = Buffer.byteLength(name, "utf8") + 1;
    switch (e.type) {
      case "dir":
        push(header(ino, S_IFDIR | (e.mode ?? 0o755), 2, 0, 0, 0, nameSize), name, new Uint8Array());
        break;
      case "file": {
        const data = typeof e.data === "string" ? Buffer.from(e.data, "utf8") : e.data;
        push(header(ino, S_IFREG | (e.mode ?? 0o644), 1, data.length, 0, 0, nameSize), name, data);
        break;
      }
      case "symlink": {
        const data = Buffer.from(e.target, "utf8");
        push(header(ino, S_IFLNK | 0o777, 1, data.length, 0, 0, nameSize), name, data);
        break;
      }
      case "chardev":
        push(
          header(ino, S_IFCHR | (e.mode ?? 0o600), 1, 0, e.major, e.minor, nameSize),
          name,
          new Uint8Array(),
        );
        break;
    }
  });
  push(header(0, 0, 1, 0, 0, 0, "TRAILER!!!".length + 1), "TRAILER!!!", new Uint8Array());
  return Buffer.concat(parts);
}
