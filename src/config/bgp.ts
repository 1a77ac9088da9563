// Stage "bgp": calico-lab:routeReflectors → the hosts acting as BGP route reflectors (mesh off when any).
import { MODE_SPECS, type Mode } from "../modes.ts";
import { shown, type Problem } from "../problems.ts";
import { key, type HostConfig, type Raw } from "./model.ts";

/** `mode` is undefined when calico-lab:mode was refused; `written` the host names written, valid or not. */
export function parseRouteReflectors(
  raw: Raw,
  hosts: readonly HostConfig[],
  written: ReadonlySet<unknown>,
  mode: Mode | undefined,
  problems: Problem[],
): string[] {
  const v = raw.routeReflectors;
  if (v === undefined) return [];
  const field = key("routeReflectors");
  const bad = (f: string, value: unknown, message: string, fix: string) =>
    problems.push({ field: f, value: shown(value), message, fix });
  if (mode !== undefined && !MODE_SPECS[mode].runsBgp) {
    bad(
      field,
      v,
      `mode ${mode} runs no BGP (calico_backend ${MODE_SPECS[mode].preset.backend}): there is nothing for a route reflector to reflect`,
      `remove it (pulumi config rm ${field}), or use a BGP mode such as ipip or bgp`,
    );
    return [];
  }
  const hostNames = new Set(hosts.map((h) => h.name));
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
    bad(field, v, "routeReflectors must be a list of host names", 'write e.g. ["master", "worker-1"]');
    return [];
  }
  const names = v as string[];
  if (names.length === 0) {
    bad(
      field,
      v,
      "an empty list turns the node-to-node mesh off and leaves no route reflector: no node would peer",
      "name at least one host, or remove the key to keep the full mesh",
    );
  }
  const seen = new Map<string, number>();
  for (const [i, name] of names.entries()) {
    const dup = seen.get(name);
    seen.set(name, i);
    if (dup !== undefined) {
      bad(`${field}[${i}]`, name, `listed twice (also ${field}[${dup}])`, "name each route reflector once");
    } else if (written.has(name) && !hostNames.has(name)) {
      continue; // a refused host: its own problem says why
    } else if (!hostNames.has(name)) {
      bad(`${field}[${i}]`, name, "no such host", `use one of ${[...hostNames].join(", ")}`);
    }
  }
  if (names.length > 0 && new Set(names).size >= hosts.length && hosts.length > 0) {
    bad(
      field,
      v,
      "every host is a route reflector: there are no clients to reflect to",
      "leave at least one host out of the list",
    );
  }
  return names;
}
