// One CNI ADD and DEL as a kubelet makes them, on a running lab: `ip netns exec <host> calico-cni` with the
// network config on stdin (the lab's CNI executable, which hands the call to the host's agent), timed from
// the spawn to the answer, for pods of its own in fresh namespaces (created and removed outside the timing).
//   node --import tsx bench/cni-call.ts <run dir of a running lab's stack> <host> [calls=20]
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { cniNetworkConfig, invokeCni } from "../src/agent/cni/invoke.ts";
import { runFiles } from "../src/agent/daemon/status.ts";
import { readAgentSettings } from "../src/manifest/index.ts";
import { run } from "../src/effects/exec.ts";

const [runDir, host, n = "20"] = process.argv.slice(2);
if (!runDir || !host) throw new Error("usage: cni-call.ts <run dir> <host> [calls]");
const stack = runDir.split("/").filter(Boolean).at(-1)!;
const hostNetns = `${stack}-${host}`;
const s = readAgentSettings(await readFile(join(runDir, "calico.yaml"), "utf8"));
if (s.datastore.type !== "etcdv3") throw new Error("the lab needs the etcdv3 datastore");
const config = cniNetworkConfig({
  etcdEndpoints: s.datastore.endpoints,
  nodename: host,
  agentSocket: runFiles(join(runDir, host)).cniSocket,
  ...(s.vethMtu > 0 ? { mtu: s.vethMtu } : {}),
});
const adds: number[] = [];
const dels: number[] = [];
for (let i = 0; i < Number(n); i++) {
  const podNetns = `${stack}-cb${i}`;
  await run(["ip", "netns", "add", podNetns]);
  const pod = { hostNetns, podNetns, namespace: "bench", pod: `cb${i}`, containerId: `${stack}-cb${i}` };
  try {
    let t = performance.now();
    await invokeCni("ADD", pod, config, 60_000, "agent");
    adds.push(performance.now() - t);
    t = performance.now();
    await invokeCni("DEL", pod, config, 60_000, "agent");
    dels.push(performance.now() - t);
  } finally {
    await run(["ip", "netns", "delete", podNetns]);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) =>
  `median ${median(xs).toFixed(1)} ms, min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}`;
console.log(`cni-call: ${n} pods on ${host} of ${stack}, ip netns exec + calico-cni + the agent`);
console.log(`  ADD: ${fmt(adds)}`);
console.log(`  DEL: ${fmt(dels)}`);
