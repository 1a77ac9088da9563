// install-cni, effects: copies the CNI plugin into the host's /opt/cni/bin and writes the rendered network
// config (and, when the pod has them, etcd's TLS files and a kubeconfig) into the host's /etc/cni/net.d.
// Every file is written next to its final name and renamed, so containerd never runs or reads half a file.
import { chmod, copyFile, mkdir, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CNI_BIN_DIR } from "../../kubernetes/containerd-config.ts";
import {
  calicoKubeconfig,
  ETCD_TLS_DIR,
  ETCD_TLS_FILES,
  HOST_CNI_BIN,
  HOST_CNI_NET,
  KUBECONFIG_NAME,
  renderCniNetworkConfig,
  SERVICE_ACCOUNT_CA,
  SERVICE_ACCOUNT_TOKEN,
  type EtcdTlsVar,
  type InstallSettings,
} from "./install.ts";

export interface InstallPaths {
  /** The plugin's files in the image (the launcher and its app folder). */
  pluginDir: string;
  /** The host's /opt/cni/bin and /etc/cni/net.d as mounted in the container. */
  hostBin: string;
  hostNet: string;
  serviceAccountToken: string;
  serviceAccountCa: string;
}

export const IMAGE_PATHS: InstallPaths = {
  pluginDir: CNI_BIN_DIR,
  hostBin: HOST_CNI_BIN,
  hostNet: HOST_CNI_NET,
  serviceAccountToken: SERVICE_ACCOUNT_TOKEN,
  serviceAccountCa: SERVICE_ACCOUNT_CA,
};

const tmpName = (file: string) => `${file}.install-cni-${process.pid}.tmp`;

async function writeAtomic(file: string, data: string, mode: number): Promise<void> {
  await writeFile(tmpName(file), data, { mode });
  await chmod(tmpName(file), mode);
  await rename(tmpName(file), file);
}

async function copyAtomic(from: string, to: string): Promise<void> {
  const mode = (await stat(from)).mode & 0o7777;
  await copyFile(from, tmpName(to));
  await chmod(tmpName(to), mode);
  await rename(tmpName(to), to);
}

/** Copies a folder's files (recursively); folders before files, and top-level files last. */
async function copyTree(from: string, to: string, copied: string[]): Promise<void> {
  await mkdir(to, { recursive: true });
  const entries = (await readdir(from, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries.filter((x) => x.isDirectory()))
    await copyTree(join(from, e.name), join(to, e.name), copied);
  for (const e of entries.filter((x) => !x.isDirectory())) {
    await copyAtomic(join(from, e.name), join(to, e.name));
    copied.push(join(to, e.name));
  }
}

async function readIfPresent(file: string): Promise<string | null> {
  try {
    return (await readFile(file, "utf8")).trim();
  } catch {
    return null;
  }
}

export interface InstallResult {
  copied: string[];
  written: string[];
}

/** Installs the plugin and writes the config; returns what it put where (for its log). */
export async function installCni(s: InstallSettings, paths: InstallPaths): Promise<InstallResult> {
  const copied: string[] = [];
  const written: string[] = [];
  // The config is rendered (and checked) first: a broken one stops the install before anything changes.
  const token = (await readIfPresent(paths.serviceAccountToken)) ?? "";
  const conflist = renderCniNetworkConfig(s, token);
  await copyTree(paths.pluginDir, paths.hostBin, copied);
  await mkdir(paths.hostNet, { recursive: true });
  const tlsVars = Object.keys(s.etcdTls) as EtcdTlsVar[];
  if (tlsVars.length > 0) {
    const dir = join(paths.hostNet, ETCD_TLS_DIR);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const k of tlsVars) {
      const file = join(dir, ETCD_TLS_FILES[k]);
      await writeAtomic(file, await readFile(s.etcdTls[k]!, "utf8"), 0o600);
      written.push(file);
    }
  }
  if (token && s.kubernetesServiceHost && s.kubernetesServicePort) {
    const ca = (await readIfPresent(paths.serviceAccountCa)) ?? "";
    const file = join(paths.hostNet, KUBECONFIG_NAME);
    await writeAtomic(
      file,
      calicoKubeconfig(s, token, Buffer.from(ca ? `${ca}\n` : "").toString("base64")),
      0o600,
    );
    written.push(file);
  }
  const conf = join(paths.hostNet, s.confName);
  await writeAtomic(conf, conflist, 0o644);
  written.push(conf);
  return { copied, written };
}
