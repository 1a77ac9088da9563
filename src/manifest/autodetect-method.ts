// IP_AUTODETECTION_METHOD: how calico-node picks the node's address. Parsed into a typed union the agent's
// autodetection uses; every malformed form is a problem naming the value and the fix.
import { Validator } from "ip-num";
import { shown, type ManifestProblem } from "./problems.ts";

export type AutodetectMethod =
  | { kind: "first-found" }
  | { kind: "can-reach"; destination: string }
  | { kind: "interface"; patterns: string[] }
  | { kind: "skip-interface"; patterns: string[] }
  | { kind: "cidr"; cidrs: string[] }
  | { kind: "kubernetes-internal-ip" };

export const AUTODETECT_FIELD = "IP_AUTODETECTION_METHOD";

const FORMS =
  "first-found, can-reach=<ip or host>, interface=<regex>[,<regex>], skip-interface=<regex>[,<regex>], " +
  "cidr=<cidr>[,<cidr>], kubernetes-internal-ip";

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** Syntax Go's RE2 (what calico-node uses) rejects although JavaScript accepts it. */
const NOT_RE2: { re: RegExp; what: string }[] = [
  { re: /\(\?<?[=!]/, what: "lookaround assertions" },
  { re: /\\[1-9]/, what: "backreferences" },
];

export type AutodetectResult =
  { ok: true; method: AutodetectMethod } | { ok: false; problems: ManifestProblem[] };

export function parseAutodetectMethod(text: string, field: string = AUTODETECT_FIELD): AutodetectResult {
  const problems: ManifestProblem[] = [];
  const problem = (message: string, fix: string) =>
    problems.push({ field, value: shown(text), message, fix });
  const trimmed = text.trim();
  if (trimmed === "" || trimmed === "first-found") return { ok: true, method: { kind: "first-found" } };
  if (trimmed === "kubernetes-internal-ip") return { ok: true, method: { kind: "kubernetes-internal-ip" } };

  const eq = trimmed.indexOf("=");
  const kind = eq < 0 ? trimmed : trimmed.slice(0, eq);
  const arg = eq < 0 ? "" : trimmed.slice(eq + 1);
  const canonical = [
    "first-found",
    "can-reach",
    "interface",
    "skip-interface",
    "cidr",
    "kubernetes-internal-ip",
  ];
  const loose = (s: string) => s.toLowerCase().replace(/[_\s]/g, "-").replace(/s$/, "");
  if (!canonical.includes(kind)) {
    const guess = canonical.find((c) => loose(c) === loose(kind));
    problem(
      `unknown autodetection method "${kind}"`,
      guess
        ? `write "${guess}${eq < 0 ? "" : "=" + arg}" (methods are lower-case, words joined by "-")`
        : `use one of: ${FORMS}`,
    );
    return { ok: false, problems };
  }
  if (kind === "first-found" || kind === "kubernetes-internal-ip") {
    problem(`"${kind}" takes no argument`, `write "${kind}" alone`);
    return { ok: false, problems };
  }
  if (arg.trim() === "") {
    problem(`"${kind}" needs an argument after "="`, `e.g. ${exampleFor(kind)}`);
    return { ok: false, problems };
  }

  if (kind === "can-reach") {
    const dest = arg.trim();
    if (!Validator.isValidIPv4String(dest)[0] && !HOSTNAME.test(dest)) {
      problem(
        `can-reach destination "${dest}" is neither an IPv4 address nor a host name`,
        `e.g. ${exampleFor(kind)}`,
      );
      return { ok: false, problems };
    }
    return { ok: true, method: { kind, destination: dest } };
  }

  const items = arg.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) {
    problem(`an empty entry in the comma-separated list "${arg}"`, "remove the extra comma");
  }
  const list = items.filter((s) => s !== "");

  if (kind === "cidr") {
    for (const c of list) {
      if (!Validator.isValidIPv4CidrNotation(c)[0]) {
        problem(`"${c}" is not an IPv4 CIDR`, `write networks as a.b.c.d/len, e.g. ${exampleFor(kind)}`);
      }
    }
    return problems.length > 0 ? { ok: false, problems } : { ok: true, method: { kind, cidrs: list } };
  }

  // interface= and skip-interface=: comma-separated regular expressions (RE2 syntax) on interface names.
  for (const pattern of list) {
    try {
      new RegExp(pattern);
    } catch (e) {
      const why = e instanceof Error ? e.message.replace(/^Invalid regular expression: /, "") : String(e);
      problem(
        `"${pattern}" is not a valid regular expression (${why})`,
        `interface names are matched by regex, not glob: write "${kind}=${globToRegex(pattern)}"`,
      );
      continue;
    }
    const bad = NOT_RE2.find((n) => n.re.test(pattern));
    if (bad) {
      problem(
        `"${pattern}" uses ${bad.what}, which calico-node's Go regexp (RE2) does not support`,
        "rewrite it without them",
      );
    }
  }
  const listKind = kind === "skip-interface" ? "skip-interface" : "interface";
  return problems.length > 0
    ? { ok: false, problems }
    : { ok: true, method: { kind: listKind, patterns: list } };
}

export function formatAutodetectMethod(m: AutodetectMethod): string {
  switch (m.kind) {
    case "first-found":
    case "kubernetes-internal-ip":
      return m.kind;
    case "can-reach":
      return `can-reach=${m.destination}`;
    case "interface":
    case "skip-interface":
      return `${m.kind}=${m.patterns.join(",")}`;
    case "cidr":
      return `cidr=${m.cidrs.join(",")}`;
  }
}

function exampleFor(kind: string): string {
  switch (kind) {
    case "can-reach":
      return "can-reach=192.168.19.165";
    case "cidr":
      return "cidr=192.168.19.0/24";
    case "skip-interface":
      return "skip-interface=docker.*,tunl.*";
    default:
      return "interface=eth0,ens.*";
  }
}

/** A best guess at what a shell-glob-minded user meant: "*eth0" → ".*eth0", "eth[0" → "eth\[0". */
function globToRegex(pattern: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "*" && (i === 0 || !".)]".includes(pattern[i - 1] as string))) out += ".*";
    else if (c === "?" && i === 0) out += ".";
    else if ("[](){}+".includes(c) && !isBalanced(pattern)) out += "\\" + c;
    else out += c;
  }
  return out;
}

function isBalanced(p: string): boolean {
  try {
    new RegExp(p.replace(/\*/g, ""));
    return true;
  } catch {
    return false;
  }
}
