// Network namespaces: create, delete (idempotent), list, and the processes living in one. Each is made on
// its host (host-exec.ts): this kernel's `ip netns`, or a VM host's, through its channel, where it is also
// recorded so that every process of the lab finds it there.
import { readdir, readlink, stat } from "node:fs/promises";
import { assertNetnsName } from "./names.ts";
import { run, tryRun } from "./exec.ts";
import { execIn, hostOfNetns, THIS_KERNEL, type HostExec } from "./host-exec.ts";

/** This kernel's namespaces. */
export async function listNetns(): Promise<string[]> {
  try {
    return (await readdir("/run/netns")).sort();
  } catch {
    return [];
  }
}

export async function netnsExists(name: string, host = hostOfNetns(name)): Promise<boolean> {
  assertNetnsName(name);
  if (!host.local) return (await tryRun(execIn(host, name, ["true"]))).exitCode === 0;
  return (await listNetns()).includes(name);
}

/** Creates the namespace with its loopback up, on this kernel or the given host. Fails if it exists. */
export async function createNetns(name: string, host: HostExec = THIS_KERNEL): Promise<void> {
  assertNetnsName(name);
  await run(host.onHost(["ip", "netns", "add", name]));
  host.adopt(name);
  await run(execIn(host, name, ["ip", "link", "set", "dev", "lo", "up"]));
}

/** IPv4 forwarding in the namespace (a router's; the hosts' is the agent's business, as Felix's). */
export async function setForwarding(name: string, on: boolean, host = hostOfNetns(name)): Promise<void> {
  await run(execIn(host, assertNetnsName(name), ["sysctl", "-qw", `net.ipv4.ip_forward=${on ? 1 : 0}`]));
}

export async function forwarding(name: string, host = hostOfNetns(name)): Promise<boolean> {
  const r = await tryRun(execIn(host, assertNetnsName(name), ["sysctl", "-n", "net.ipv4.ip_forward"]));
  return r.stdout.trim() === "1";
}

/** Kills every process in the namespace, then deletes it. Nothing to delete is not an error. */
export async function deleteNetns(name: string, host = hostOfNetns(name)): Promise<void> {
  assertNetnsName(name);
  if (!host.local) return deleteRemoteNetns(name, host);
  if (!(await netnsExists(name, host))) return;
  for (const pid of await pidsInNetns(name)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  const r = await tryRun(["ip", "netns", "delete", name]);
  if (r.exitCode !== 0 && (await netnsExists(name, host))) {
    throw new Error(`could not delete network namespace ${name}: ${r.stderr.trim()}`);
  }
}

/** On a host of its own: its processes killed and the namespace deleted there. A VM already gone took it along. */
async function deleteRemoteNetns(name: string, host: HostExec): Promise<void> {
  const pids = await tryRun(host.onHost(["ip", "netns", "pids", name]));
  const list = pids.stdout.split(/\s+/).filter((p) => /^\d+$/.test(p));
  if (list.length > 0) await tryRun(host.onHost(["kill", "-KILL", ...list]));
  const r = await tryRun(host.onHost(["ip", "netns", "delete", name]));
  if (r.exitCode !== 0 && (await netnsExists(name, host)))
    throw new Error(`could not delete network namespace ${name} in ${host.where}: ${r.stderr.trim()}`);
  host.forget(name);
}

/** Pids of processes (of this kernel) whose network namespace is the named one. */
export async function pidsInNetns(name: string): Promise<number[]> {
  let ino: number;
  try {
    ino = (await stat(`/run/netns/${assertNetnsName(name)}`)).ino;
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const link = await readlink(`/proc/${entry}/ns/net`);
      if (link === `net:[${ino}]`) pids.push(Number(entry));
    } catch {
      /* process ended or not ours to read */
    }
  }
  return pids;
}
