// What a lab must leave untouched in the root namespace: links, routes, iptables rules, forwarding sysctls.
// (Namespaces are checked by each test against its own prefix: other runs may share the machine.)
import { run } from "../../src/effects/exec.ts";

export interface RootSnapshot {
  links: string;
  routes: string;
  iptables: string;
  sysctls: string;
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
    sysctls: await maybe([
      "sysctl",
      "net.ipv4.ip_forward",
      "net.ipv4.conf.all.rp_filter",
      "net.ipv4.conf.all.proxy_arp",
    ]),
  };
}
