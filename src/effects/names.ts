// Names that reach the kernel (namespaces, links) are checked against strict patterns first.

/** Network namespace names we create: lower-case, digits, dashes; at most 48 characters. */
export const NETNS_NAME = /^[a-z][a-z0-9-]{0,47}$/;
/** Linux interface names: at most 15 bytes, no slash, colon or whitespace; we allow a safe subset. */
export const IFNAME = /^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$/;

export function assertNetnsName(name: string): string {
  if (!NETNS_NAME.test(name)) {
    throw new Error(
      `invalid network namespace name "${name}": use lower-case letters, digits and dashes, starting with a letter, at most 48 characters`,
    );
  }
  return name;
}

export function assertIfName(name: string): string {
  if (!IFNAME.test(name)) {
    throw new Error(
      `invalid interface name "${name}": use letters, digits, '_', '.', '-', starting with a letter, at most 15 characters`,
    );
  }
  return name;
}
