// The underlay verification against real namespaces: it passes on a wired lab and, when a host is cut off,
// fails with what was expected and what was seen.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { readLabConfig as parseLabConfig } from "../../../src/config/read.ts";
import { addAddress, createBridge, createVethPair, deleteLink } from "../../../src/effects/links.ts";
import { createNetns } from "../../../src/effects/netns.ts";
import { planLab } from "../../../src/lab/topology.ts";
import { verifyUnderlay } from "../../../src/verify/underlay.ts";
import { removeNetnsWithPrefix, runPrefix } from "../../support/netns-scope.ts";

const prefix = runPrefix("vu");
const parsed = parseLabConfig(prefix, {});
assert.ok(parsed.ok);
const plan = planLab(parsed.config);

describe("underlay verification", { timeout: 60_000 }, () => {
  before(async () => {
    await createNetns(plan.switchNetns);
    await createBridge(plan.switchNetns, plan.bridge, plan.mtu);
    for (const h of plan.hosts) {
      await createNetns(h.netns);
      await createVethPair({
        netns: h.netns,
        ifname: h.ifname,
        peerNetns: plan.switchNetns,
        peerIfname: h.port,
        peerBridge: plan.bridge,
        mtu: plan.mtu,
      });
      await addAddress(h.netns, h.ifname, h.cidr);
    }
  });
  after(() => removeNetnsWithPrefix(prefix));

  it("passes when every host reaches every other", async () => {
    const report = await verifyUnderlay(plan, 3000);
    assert.equal(report.checks.length, 6);
    assert.ok(
      report.ok,
      JSON.stringify(
        report.checks.filter((c) => !c.ok),
        null,
        2,
      ),
    );
  });

  it("fails naming the pair, the expectation and what was seen when a host is cut off", async () => {
    const cut = plan.hosts[2]!;
    await deleteLink(plan.switchNetns, cut.port);
    const report = await verifyUnderlay(plan, 1500);
    assert.equal(report.ok, false);
    const failed = report.checks.filter((c) => !c.ok).map((c) => c.name);
    assert.deepEqual(failed.sort(), [
      `underlay ping master -> worker-2 (${cut.address})`,
      `underlay ping worker-1 -> worker-2 (${cut.address})`,
      `underlay ping worker-2 -> master (${plan.hosts[0]!.address})`,
      `underlay ping worker-2 -> worker-1 (${plan.hosts[1]!.address})`,
    ]);
    for (const c of report.checks.filter((c) => !c.ok)) {
      assert.equal(c.expected, "an ICMP echo reply");
      assert.match(c.seen, /^no reply after \d+ attempts: /);
    }
  });
});
