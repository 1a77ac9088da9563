// BGP convergence: from agent start to every remote block routed on every host, 3 hosts in BGP mode,
// real namespaces, real BIRD, real etcd (the routing integration tests' harness).
// Each round stops the agents (BIRD withdraws its kernel routes on SIGTERM), checks the routes are gone,
// then starts the 3 agents together and polls `ip route` every 20 ms until all routes are exactly there.
// Usage (root): node --import tsx bench/bgp-convergence.ts [rounds=5]
import { readFile } from "node:fs/promises";
import { startAgent, stopAgent } from "../src/agent/daemon/launch.ts";
import { runFiles } from "../src/agent/daemon/status.ts";
import { expectedBlackholes, expectedRemoteRoutes } from "../src/agent/felix/plan.ts";
import { RoutingLab, waitFor, type LabHost } from "../test/integration/routing/harness.ts";

const rounds = Number(process.argv[2] ?? 5);
const lab = new RoutingLab({ tag: "bc", hosts: 3, preset: "bgp" });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  await lab.build();
  await lab.startAgents();
  await lab.addPods(1);
  const snap = await lab.snapshot();
  const want = new Map<LabHost, string>(
    lab.hosts.map((h) => [
      h,
      JSON.stringify(
        [
          ...expectedRemoteRoutes(snap, h.name, "eth0").map((r) => r.line),
          ...expectedBlackholes(snap, h.name),
        ].sort(),
      ),
    ]),
  );
  const complete = async () => {
    for (const h of lab.hosts)
      if (JSON.stringify((await lab.podRoutes(h)).sort()) !== want.get(h)) return false;
    return true;
  };
  await waitFor("routes before the first round", complete, 10_000);

  const total: number[] = [];
  const afterReady: number[] = [];
  const ready: number[] = [];
  for (let r = 0; r < rounds; r++) {
    await Promise.all(lab.hosts.map((h) => stopAgent(h.runDir)));
    await waitFor(
      "routes withdrawn",
      async () => (await Promise.all(lab.hosts.map((h) => lab.podRoutes(h)))).every((l) => l.length === 0),
      10_000,
    ).catch(async (e: Error) => {
      for (const h of lab.hosts) {
        const log = await readFile(runFiles(h.runDir).agentLog, "utf8").catch(() => "");
        console.error(h.name, await lab.podRoutes(h), log.split("\n").slice(-6).join("\n"));
      }
      throw e;
    });
    const t0 = performance.now();
    let lastReady = 0;
    const starting = Promise.all(
      lab.hosts.map((h) =>
        startAgent(lab.agentOptions(h)).then(() => (lastReady = Math.max(lastReady, performance.now() - t0))),
      ),
    );
    await waitFor("all routes", complete, 15_000, 20);
    const t = performance.now() - t0;
    await starting;
    total.push(t);
    ready.push(lastReady);
    afterReady.push(t - lastReady);
    console.log(
      `round ${r + 1}: all routes on 3 hosts ${t.toFixed(0)} ms after start (last agent ready at ${lastReady.toFixed(0)} ms)`,
    );
  }
  console.log(
    `\nBGP convergence, 3 hosts, ${rounds} rounds: median ${median(total).toFixed(0)} ms (min ${Math.min(...total).toFixed(0)}, max ${Math.max(...total).toFixed(0)}) ` +
      `from agent start; agents ready after ${median(ready).toFixed(0)} ms (node + tsx start, startup, first apply); ` +
      `routes complete ${median(afterReady).toFixed(0)} ms after the last agent was ready.`,
  );
} finally {
  await lab.teardown();
}
