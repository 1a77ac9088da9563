// install-cni: the calico-node image's init container (`/install-cni.sh`, as Calico's v3.8–v3.11 manifests
// call it). Puts our CNI plugin into the host's /opt/cni/bin and the manifest's cni_network_config into
// /etc/cni/net.d, then exits (SLEEP=false) or sleeps until stopped.
import { hostname } from "node:os";
import { installSettingsFromEnv } from "./install.ts";
import { installCni, IMAGE_PATHS } from "./install-run.ts";

const log = (m: string) => process.stderr.write(`${new Date().toISOString()} install-cni: ${m}\n`);

try {
  const settings = installSettingsFromEnv(process.env, hostname());
  const r = await installCni(settings, IMAGE_PATHS);
  log(`copied ${r.copied.length} file(s) into ${IMAGE_PATHS.hostBin}: ${r.copied.join(", ")}`);
  log(`wrote ${r.written.join(", ")}`);
  if (!settings.sleep) process.exit(0);
  log("installed; sleeping until stopped (SLEEP=true)");
  process.on("SIGTERM", () => process.exit(0));
  process.on("SIGINT", () => process.exit(0));
  setInterval(() => undefined, 1 << 30);
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
}
