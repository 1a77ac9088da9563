import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  execIn,
  hostOfNetns,
  ipIn,
  THIS_KERNEL,
  vmHostExec,
  type HostExec,
} from "../../../src/effects/host-exec.ts";
import { createVethPair, linkExists, listRoutes } from "../../../src/effects/links.ts";
import { createNetns, deleteNetns } from "../../../src/effects/netns.ts";
import { vmPrefix } from "../../../src/effects/vm-netns.ts";

/**
 * A host of its own whose commands are recorded: each argv is answered by `answer` with a harmless local
 * program (`printf` for output, `false` for a failure), so the effects run without root or a VM.
 */
function recordingHost(answer: (argv: readonly string[]) => string[]) {
  const argvs: string[] = [];
  const noted: string[] = [];
  const host: HostExec = {
    where: "the recording host",
    local: false,
    onHost: (argv) => {
      argvs.push(argv.join(" "));
      return answer(argv);
    },
    adopt: (n) => noted.push(`adopt ${n}`),
    forget: (n) => noted.push(`forget ${n}`),
  };
  return { host, argvs, noted };
}
const ok = () => ["true"];
const fails = () => ["false"];

describe("how commands reach a host", () => {
  it("runs them as they are on this kernel, and prefixed on a VM host", () => {
    assert.deepEqual(ipIn(THIS_KERNEL, "lab-a", ["link", "show"]), ["ip", "-n", "lab-a", "link", "show"]);
    assert.deepEqual(execIn(THIS_KERNEL, "lab-a", ["true"]), ["ip", "netns", "exec", "lab-a", "true"]);
    const vm = { switchNetns: "lab-underlay", execPort: 7001, vmExec: ["node", "vm-exec.mjs"] };
    assert.deepEqual(ipIn(vmHostExec(vm), "lab-a", ["route"]), [
      ...vmPrefix(vm),
      "ip",
      "-n",
      "lab-a",
      "route",
    ]);
    assert.equal(hostOfNetns("t0-no-such-lab-host"), THIS_KERNEL);
    assert.throws(() => ipIn(THIS_KERNEL, "a b", ["link"]), /invalid network namespace name/);
  });

  it("builds links on the namespace's host, every command there and in order", async () => {
    // The link is not there yet: `link show` fails, so the pair is added.
    const r = recordingHost((argv) => (argv.includes("show") ? fails() : ok()));
    await createVethPair({
      netns: "lab-a",
      ifname: "eth0",
      peerNetns: "lab-underlay",
      peerIfname: "a",
      peerBridge: "br0",
      mtu: 1500,
      host: r.host,
    });
    assert.deepEqual(r.argvs, [
      "ip -n lab-a link show dev eth0",
      "ip -n lab-a link add eth0 mtu 1500 type veth peer name a netns lab-underlay",
      "ip -n lab-underlay link set dev a master br0",
      "ip -n lab-underlay link set dev a mtu 1500 up",
      "ip -n lab-a link set dev eth0 mtu 1500 up",
    ]);
    assert.equal(await linkExists("lab-a", "eth0", recordingHost(fails).host), false);
    const routes = recordingHost(() => ["printf", "%s", '[{"dst":"default"}]']);
    assert.deepEqual(await listRoutes("lab-a", "eth0", routes.host), [{ dev: "eth0", dst: "default" }]);
    assert.deepEqual(routes.argvs, ["ip netns exec lab-a ip -j -4 route show dev eth0"]);
  });

  it("makes a namespace on its host and records it there", async () => {
    const r = recordingHost(ok);
    await createNetns("lab-pod-a", r.host);
    assert.deepEqual(r.argvs, ["ip netns add lab-pod-a", "ip netns exec lab-pod-a ip link set dev lo up"]);
    assert.deepEqual(r.noted, ["adopt lab-pod-a"]);
  });

  it("deletes a namespace on its host: its processes killed, then it; one already gone is no error", async () => {
    const r = recordingHost((argv) => (argv.includes("pids") ? ["printf", "%s", "41\n42\n"] : ok()));
    await deleteNetns("lab-pod-a", r.host);
    assert.deepEqual(r.argvs, ["ip netns pids lab-pod-a", "kill -KILL 41 42", "ip netns delete lab-pod-a"]);
    assert.deepEqual(r.noted, ["forget lab-pod-a"]);
    // Delete fails and the namespace does not answer: it was gone already.
    const gone = recordingHost((argv) => (argv.includes("pids") ? ok() : fails()));
    await deleteNetns("lab-pod-a", gone.host);
    assert.deepEqual(gone.noted, ["forget lab-pod-a"]);
    // Delete fails but it still answers: an error naming the host.
    const stuck = recordingHost((argv) => (argv.includes("delete") ? fails() : ok()));
    await assert.rejects(deleteNetns("lab-pod-a", stuck.host), /lab-pod-a in the recording host/);
    // This kernel, a namespace it does not have: nothing to do.
    await deleteNetns("t0-no-such-lab-host", THIS_KERNEL);
  });
});
