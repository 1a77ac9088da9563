import { rm } from "node:fs/promises";
import { join } from "node:path";
import { etcdArgv } from "../../agent/datastore/etcd-server.ts";
import { tryRun, inNetns } from "../../effects/exec.ts";
import { daemonPid, daemonSupervision, startDaemon, stopDaemon } from "../../effects/daemon.ts";
import type { Handler } from "./handler.ts";
import { scaledMs } from "../timeouts.ts";

/** The lab's datastore: etcd in the master's namespace, listening only on the master's underlay address. */
export interface EtcdInputs {
  netns: string;
  address: string;
  runDir: string;
  /** Where etcd keeps its data (default <runDir>/etcd-data; a VM master's: a tmpfs inside the VM). */
  dataDir?: string;
  /** The etcd to run (default Debian's /usr/bin/etcd; a kubeadm cluster's: 3.6, which kube-apiserver needs). */
  binary?: string;
}

export interface EtcdOutputs extends EtcdInputs {
  endpoint: string;
  pid: number;
}

const NAME = "etcd";

function options(i: EtcdInputs) {
  return {
    name: "calico-lab",
    dataDir: i.dataDir ?? join(i.runDir, "etcd-data"),
    address: i.address,
    ...(i.binary ? { etcdBinary: i.binary } : {}),
    // A VM master (its data on the VM's tmpfs) is emulated: etcd's own raft clock, a tenth of the ticks.
    ...(i.dataDir ? { raftClock: "etcd" as const } : {}),
  };
}

export async function etcdHealthy(netns: string, endpoint: string): Promise<boolean> {
  const r = await tryRun(
    inNetns(netns, ["etcdctl", "--endpoints", endpoint, "--dial-timeout", "1s", "endpoint", "health"]),
    { timeoutMs: 4000 },
  );
  return r.exitCode === 0;
}

export const etcdHandler: Handler<EtcdInputs, EtcdOutputs> = {
  replaceOn: ["netns", "address", "runDir"],
  async create(inputs) {
    const endpoint = `http://${inputs.address}:2379`;
    const pid = await startDaemon({
      name: NAME,
      netns: inputs.netns,
      argv: etcdArgv(options(inputs)),
      runDir: inputs.runDir,
      ready: () => etcdHealthy(inputs.netns, endpoint),
      // Killed, it starts again on the same data dir; agents' watches resume from their revision.
      supervised: true,
      // Its data goes with it on delete: no graceful shutdown to wait for (SIGTERM took about a second).
      stopGraceMs: 0,
      // In a VM under TCG, etcd and each etcdctl probe start in seconds, not milliseconds.
      ...(inputs.dataDir ? { deadlineMs: scaledMs(120_000) } : {}),
    });
    return { id: `${inputs.netns}/etcd`, outs: { ...inputs, endpoint, pid } };
  },
  async read(_id, props) {
    // Supervised, it exists while restarting too (its supervisor starts it again).
    const pid = await daemonPid(props.runDir, NAME);
    if (pid) return { ...props, pid };
    return (await daemonSupervision(props.runDir, NAME)) ? props : undefined;
  },
  async delete(_id, props) {
    // The data goes with it: no graceful shutdown to wait for (SIGTERM took etcd about a second).
    await stopDaemon(props.runDir, NAME, 0);
    // A VM master's data was on the VM's tmpfs: it goes with the VM.
    if (!props.dataDir) await rm(join(props.runDir, "etcd-data"), { recursive: true, force: true });
    await rm(join(props.runDir, `${NAME}.log`), { force: true });
  },
};
