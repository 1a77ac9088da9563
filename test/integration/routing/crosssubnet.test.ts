// IPIP CrossSubnet across a router (the seeds' "different network"): 4 hosts, node-1 and node-2 in
// 10.99.0.0/24, node-3 and node-4 in 10.99.1.0/24 behind a router namespace that forwards between the
// subnets and knows no pod routes; a pod on node-2, node-3 and node-4.
// With the ipip module (scripts/ci-vm runs this in a VM with Debian's kernel): BGP multihop sessions across
// the router, remote blocks `via <node> dev eth0` inside a subnet and `via <node> dev tunl0 onlink` across
// it, plain ICMP on the wire inside a subnet and IP protocol 4 across the router, every pod reaching every pod.
// Without it (this machine): the agent runs degraded and says so, creates no tunl0, the routes inside a
// subnet are there and work, and pod traffic across the router is dropped by the router (which is why
// CrossSubnet must encapsulate there).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readStatus, runFiles } from "../../../src/agent/daemon/status.ts";
import { tryRun } from "../../../src/effects/exec.ts";
import { createNetns, deleteNetns } from "../../../src/effects/netns.ts";
import { parseBirdProtocols } from "../../../src/agent/status/node-status.ts";
import { needsIpip } from "../../../src/verify/expectations.ts";
import { isRoot, runPrefix } from "../../support/netns-scope.ts";
import { RoutingLab, ping, waitFor } from "./harness.ts";

const t0 = Date.now();
function mark(what: string): void {
  if (process.env.VM_RUN)
    process.stderr.write(`crosssubnet-timing: ${what} at +${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

/** Whether this kernel can create an ipip device (probed in a throwaway namespace). */
async function kernelHasIpip(): Promise<boolean> {
  const ns = `${runPrefix("rxp")}-probe`;
  try {
    await createNetns(ns);
    return (await tryRun(["ip", "-n", ns, "link", "add", "name", "ipprobe0", "type", "ipip"])).exitCode === 0;
  } finally {
    await deleteNetns(ns).catch(() => undefined);
  }
}

const hasIpip = isRoot() ? await kernelHasIpip() : false;
mark(`ipip module: ${hasIpip ? "yes" : "no"}`);
const lab = new RoutingLab({
  tag: "rx",
  hosts: 4,
  routedFrom: 2,
  preset: "crosssubnet",
  readyTimeoutMs: 240_000,
  resyncMs: 60_000,
});
const DEADLINE_MS = 90_000;

/** Without ipip, the routes through tunl0 cannot exist. */
const possible = (line: string) => hasIpip || !needsIpip(line);
const routesAsExpected = () => lab.routesAsExpected(possible);

const podOn = (host: string) => lab.pods.find((p) => p.host === host)!;

describe(
  `routing: IPIP CrossSubnet across a router, 4 hosts in 2 subnets (${hasIpip ? "with" : "without"} the ipip module)`,
  { skip: !isRoot() && "needs root", timeout: 900_000 },
  () => {
    before(() => lab.up(1, [1, 2, 3], mark));
    after(async () => {
      if (process.env.VM_RUN) await lab.dumpAgentLogs(60);
      await lab.teardown();
      mark("torn down");
    });

    test("BGP: every node peers with every node, across the router too (multihop)", async () => {
      for (const h of lab.hosts) {
        const sock = runFiles(h.runDir).birdSocket;
        let seen = "";
        await waitFor(
          `${h.name}: 3 sessions Established`,
          async () => {
            const peers = parseBirdProtocols(
              (await tryRun(["birdc", "-s", sock, "show", "protocols"])).stdout,
            );
            seen = peers.map((p) => `${p.address} ${p.info}`).join("; ");
            return peers.length === 3 && peers.every((p) => p.info.startsWith("Established"));
          },
          DEADLINE_MS,
          250,
        ).catch((e: Error) => assert.fail(`${e.message}; seen: ${seen}`));
      }
    });

    test("routes: `via <node> dev eth0` inside a subnet, `dev tunl0 onlink` across the router", async () => {
      await waitFor("the datastore's routes on every host", routesAsExpected, DEADLINE_MS, 500);
      const n2 = lab.host("node-2");
      const lines = await lab.podRoutes(n2);
      const to = (h: string) => lines.find((l) => l.includes(` via ${lab.host(h).address} `));
      assert.match(to("node-1") ?? "", /dev eth0 proto bird$/, lines.join("; "));
      if (hasIpip) {
        assert.match(to("node-3") ?? "", /dev tunl0 proto bird onlink$/, lines.join("; "));
      } else {
        assert.equal(
          to("node-3"),
          undefined,
          `no route across the router without tunl0: ${lines.join("; ")}`,
        );
      }
    });

    test(
      hasIpip ? "tunl0 on every host" : "degraded without ipip: said in status, and no tunl0 anywhere",
      async () => {
        for (const h of lab.hosts) {
          const tunl = await tryRun(["ip", "-n", h.netns, "link", "show", "dev", "tunl0"]);
          const status = await readStatus(h.runDir);
          if (hasIpip) {
            assert.equal(tunl.exitCode, 0, `${h.name}: tunl0`);
            assert.equal(status?.degraded, undefined, `${h.name}: not degraded`);
          } else {
            assert.notEqual(tunl.exitCode, 0, `${h.name}: no tunl0 (${tunl.stdout})`);
            assert.match(status?.degraded?.join("\n") ?? "", /no ipip module/, `${h.name}: status.degraded`);
          }
        }
      },
    );

    test("inside a subnet (node-3 → node-4, behind the router): plain ICMP on the wire", async (t) => {
      const p = await lab.capturePing(t, "br1", podOn("node-3"), podOn("node-4"));
      assert.ok(p, "a frame carrying the pod's echo request on br1");
      assert.equal(p.kind, "plain", p.line);
    });

    test(
      hasIpip
        ? "across the router (node-2 → node-3): IP protocol 4 between the nodes' addresses; every pod reaches every pod"
        : "across the router without encapsulation: the router knows no pods, so the packets are lost",
      async (t) => {
        const src = podOn("node-2");
        const dst = podOn("node-3");
        if (!hasIpip) {
          assert.equal(
            await ping(src.podNetns, dst.ip, 1, 2),
            false,
            `${src.pod} → ${dst.pod} must not work`,
          );
          const r = await tryRun(["ip", "-n", lab.routerNetns, "route", "show"]);
          assert.doesNotMatch(r.stdout, /10\.244\./, "the router has no pod routes");
          return;
        }
        const p = await lab.capturePing(t, "br0", src, dst);
        assert.ok(p, "a frame carrying the pod's echo request on br0");
        assert.deepEqual(
          [p.kind, p.outerSrc, p.outerDst],
          ["ipip", lab.host("node-2").address, lab.host("node-3").address],
          p.line,
        );
        assert.deepEqual(await lab.pingMatrix(1, 5), []);
      },
    );
  },
);
