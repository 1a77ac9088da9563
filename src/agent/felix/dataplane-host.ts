// The host's share of the agent's dataplane, in the node's own namespace: reads the links, the main
// routing table and the permanent neighbours (three `ip -j` calls), and applies what hostChanges says is
// missing in one `ip -batch`. Nothing is changed when all is in place.
import { run, tryRun } from "../../effects/exec.ts";
import { hostChanges, type HostPlan, type HostState, type KernelNeigh, type KernelRoute } from "./host.ts";

interface IpAddrLink {
  ifname: string;
  flags?: string[];
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

async function ipJson<T>(args: string[]): Promise<T> {
  const out = await run(["ip", "-j", ...args]);
  return (out.trim() ? JSON.parse(out) : []) as T;
}

/** The kernel's side of what a HostPlan covers. */
export async function readHostState(underlayIf: string): Promise<HostState> {
  const [links, routes, neighbours] = await Promise.all([
    ipJson<IpAddrLink[]>(["addr", "show"]),
    ipJson<KernelRoute[]>(["-4", "route", "show", "table", "main"]),
    ipJson<KernelNeigh[]>(["-4", "neigh", "show", "nud", "permanent"]),
  ]);
  const u = links.find((l) => l.ifname === underlayIf);
  return {
    ...(u
      ? {
          underlay: {
            up: u.flags?.includes("UP") ?? false,
            cidrs: (u.addr_info ?? [])
              .filter((a) => a.family === "inet")
              .map((a) => `${a.local}/${a.prefixlen}`),
          },
        }
      : {}),
    routes,
    neighbours,
    links: new Set(links.map((l) => l.ifname)),
  };
}

/**
 * Puts back what is missing of the plan; returns the changes made (for the log) and the underlay routes
 * that wait for the interface to come up.
 */
export async function applyHost(plan: HostPlan): Promise<{ changes: string[]; waiting: string[] }> {
  const c = hostChanges(plan, await readHostState(plan.underlayIf));
  if (c.batch.length === 0) return { changes: [], waiting: c.waiting };
  // -force: one workload's interface removed meanwhile must not stop the others' repairs.
  const r = await tryRun(["ip", "-force", "-batch", "-"], { input: c.batch.join("\n") + "\n" });
  if (r.exitCode !== 0) {
    // A pod deleted between the read and the batch takes its interface with it: not a failure. What is
    // still missing of what is still there is.
    const left = hostChanges(plan, await readHostState(plan.underlayIf)).batch;
    if (left.length > 0) throw new Error(`ip -batch: ${left.join("; ")}: ${r.stderr.trim()}`);
  }
  return { changes: c.batch, waiting: c.waiting };
}
