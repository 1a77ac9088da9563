// Network namespaces: create, delete (idempotent), list, and the processes living in one. A namespace of a
// VM host lives in the VM's kernel (vm-netns.ts): created, checked and deleted there, through its channel.
import { readdir, readlink, stat } from "node:fs/promises";
import { assertNetnsName } from "./names.ts";
import { inNetns, run, tryRun } from "./exec.ts";
import { registerVmNetns, unregisterVmNetns, vmOfNetns, vmPrefix, type VmReach } from "./vm-netns.ts";

export async function listNetns(): Promise<string[]> {
  try {
    return (await readdir("/run/netns")).sort();
  } catch {
    return [];
  }
}

export async function netnsExists(name: string): Promise<boolean> {
  const vm = vmOfNetns(assertNetnsName(name));
  if (vm) return (await tryRun(inNetns(name, ["true"]))).exitCode === 0;
  return (await listNetns()).includes(name);
}

/** Creates the namespace with its loopback up, here or in a VM host. Fails if it already exists. */
export async function createNetns(name: string, vm?: VmReach): Promise<void> {
  assertNetnsName(name);
  if (vm) {
    await run([...vmPrefix(vm), "ip", "netns", "add", name]);
    registerVmNetns(name, vm);
  } else await run(["ip", "netns", "add", name]);
  await run(inNetns(name, ["ip", "link", "set", "dev", "lo", "up"]));
}

/** IPv4 forwarding in the namespace (a router's; the hosts' is the agent's business, as Felix's). */
export async function setForwarding(name: string, on: boolean): Promise<void> {
  await run([
    "ip",
    "netns",
    "exec",
    assertNetnsName(name),
    "sysctl",
    "-qw",
    `net.ipv4.ip_forward=${on ? 1 : 0}`,
  ]);
}

export async function forwarding(name: string): Promise<boolean> {
  const r = await tryRun([
    "ip",
    "netns",
    "exec",
    assertNetnsName(name),
    "sysctl",
    "-n",
    "net.ipv4.ip_forward",
  ]);
  return r.stdout.trim() === "1";
}

/** Creates the namespace unless it exists; brings loopback up either way. */
export async function ensureNetns(name: string): Promise<void> {
  if (!(await netnsExists(name))) await createNetns(name);
  else await run(["ip", "-n", name, "link", "set", "dev", "lo", "up"]);
}

/** Kills every process in the namespace, then deletes it. Nothing to delete is not an error. */
export async function deleteNetns(name: string): Promise<void> {
  assertNetnsName(name);
  const vm = vmOfNetns(name);
  if (vm) {
    // In the VM: its processes killed and the namespace deleted there. A VM already gone took it along.
    const pids = await tryRun([...vmPrefix(vm), "ip", "netns", "pids", name]);
    const list = pids.stdout.split(/\s+/).filter((p) => /^\d+$/.test(p));
    if (list.length > 0) await tryRun([...vmPrefix(vm), "kill", "-KILL", ...list]);
    const r = await tryRun([...vmPrefix(vm), "ip", "netns", "delete", name]);
    if (r.exitCode !== 0 && (await netnsExists(name)))
      throw new Error(`could not delete network namespace ${name} in its VM: ${r.stderr.trim()}`);
    unregisterVmNetns(name);
    return;
  }
  if (!(await netnsExists(name))) return;
  for (const pid of await pidsInNetns(name)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  const r = await tryRun(["ip", "netns", "delete", name]);
  if (r.exitCode !== 0 && (await netnsExists(name))) {
    throw new Error(`could not delete network namespace ${name}: ${r.stderr.trim()}`);
  }
}

/** Pids of processes whose network namespace is the named one. */
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
