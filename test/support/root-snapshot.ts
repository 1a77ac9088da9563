// What a lab must leave untouched in the root namespace: links, routes, iptables rules, namespaces.
import { run } from "../../src/effects/exec.ts";

export interface RootSnapshot {
  links: string;
  routes: string;
  iptables: string;
  netns: string;
}

async function maybe(argv: string[]): Promise<string> {
  try {
    return await run(argv);
  } catch {
    return "(unavailable)";
  }
}

export async function rootSnapshot(): Promise<RootSnapshot> {
  const links = (await run(["ip", "-o", "link", "show"]))
    .split("\n")
    .map((l) => l.split(":").slice(0, 2).join(":")) // index and name; counters and state may vary
    .join("\n");
  return {
    links,
    routes: await run(["ip", "route", "show", "table", "all"]),
    iptables: (await maybe(["iptables-save"])).replace(/^#.*$/gm, "").replace(/\[\d+:\d+\]/g, ""),
    netns: await run(["ip", "netns", "list"]),
  };
}
