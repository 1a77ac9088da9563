import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import {
  InstallCniError,
  installSettingsFromEnv,
  renderCniNetworkConfig,
  type InstallSettings,
} from "../../../../src/agent/cni/install.ts";
import { installCni } from "../../../../src/agent/cni/install-run.ts";
import { REPO_ROOT } from "../../../../src/build/bundles.ts";
import { assertGolden } from "../../../support/golden.ts";
import { sharedFixture } from "../../../support/shared-fixture.ts";

/** The calico-config ConfigMap's cni_network_config of a manifest. */
function cniNetworkConfig(file: string): string {
  for (const d of parseAllDocuments(readFileSync(file, "utf8"))) {
    const o = d.toJS() as {
      kind?: string;
      metadata?: { name?: string };
      data?: Record<string, string>;
    } | null;
    if (o?.kind === "ConfigMap" && o.metadata?.name === "calico-config") return o.data!.cni_network_config!;
  }
  throw new Error(`no calico-config in ${file}`);
}

const OURS = cniNetworkConfig(join(REPO_ROOT, "templates", "calico-etcd.yaml"));
const UPSTREAM = sharedFixture(join("calico", "calico-v3.9.0.yaml"));

/** The environment the manifest's install-cni init container gets. */
const podEnv = (template: string) => ({
  CNI_CONF_NAME: "10-calico.conflist",
  CNI_NETWORK_CONFIG: template,
  ETCD_ENDPOINTS: "http://192.168.19.165:2379",
  KUBERNETES_NODE_NAME: "worker-1",
  CNI_MTU: "1440",
  SLEEP: "false",
  KUBERNETES_SERVICE_HOST: "10.96.0.1",
  KUBERNETES_SERVICE_PORT: "443",
});

describe("install-cni", () => {
  it("fills in our etcd manifest's placeholders: endpoints, node name, MTU, no TLS files", () => {
    const s = installSettingsFromEnv(podEnv(OURS), "ignored");
    const conf = JSON.parse(renderCniNetworkConfig(s)) as { plugins: Record<string, unknown>[] };
    assert.deepEqual(conf.plugins[0], {
      type: "calico",
      log_level: "info",
      etcd_endpoints: "http://192.168.19.165:2379",
      etcd_key_file: "",
      etcd_cert_file: "",
      etcd_ca_cert_file: "",
      nodename: "worker-1",
      mtu: 1440,
      ipam: { type: "calico-ipam" },
      policy: { type: "k8s" },
    });
    assert.equal(s.sleep, false);
  });

  it("points etcd's TLS settings at the files it copies to the host", () => {
    const s = installSettingsFromEnv({ ...podEnv(OURS), ETCD_CA_CERT_FILE: "/calico-secrets/etcd-ca" }, "h");
    const plugin = (JSON.parse(renderCniNetworkConfig(s)) as { plugins: Record<string, unknown>[] })
      .plugins[0]!;
    assert.equal(plugin.etcd_ca_cert_file, "/etc/cni/net.d/calico-tls/etcd-ca");
    assert.equal(plugin.etcd_cert_file, "");
  });

  it(
    "fills in Calico v3.9's kubeconfig path; the node name defaults to the hostname",
    { skip: UPSTREAM.skip },
    () => {
      const env: Record<string, string> = { ...podEnv(cniNetworkConfig(UPSTREAM.path)) };
      delete env.KUBERNETES_NODE_NAME;
      const plugin = (
        JSON.parse(renderCniNetworkConfig(installSettingsFromEnv(env, "master"))) as {
          plugins: { nodename: string; kubernetes: { kubeconfig: string } }[];
        }
      ).plugins[0]!;
      assert.equal(plugin.kubernetes.kubeconfig, "/etc/cni/net.d/calico-kubeconfig");
      assert.equal(plugin.nodename, "master");
    },
  );

  it("refuses a bad environment with every problem at once (golden)", async () => {
    const err = (() => {
      try {
        installSettingsFromEnv(
          {
            CNI_NETWORK_CONFIG: " ",
            CNI_MTU: "9k",
            KUBERNETES_NODE_NAME: "Worker_1",
            CNI_CONF_NAME: "../x",
            ETCD_KEY_FILE: "key",
            SLEEP: "no",
          },
          "h",
        );
      } catch (e) {
        return e as InstallCniError;
      }
      return assert.fail("no error");
    })();
    assert.ok(err instanceof InstallCniError);
    assert.equal(err.problems.length, 6);
    await assertGolden("images/install-cni-bad-env.txt", err.message + "\n");
  });

  it("refuses an unknown placeholder and a result that is no conflist (golden)", async () => {
    const s = (template: string): InstallSettings => installSettingsFromEnv({ ...podEnv(template) }, "h");
    const unknown = (() => {
      try {
        renderCniNetworkConfig(s('{"plugins":[{"x":"__NOPE__"}]}'));
      } catch (e) {
        return e as Error;
      }
      return assert.fail("no error");
    })();
    assert.ok(unknown instanceof InstallCniError);
    await assertGolden("images/install-cni-unknown-placeholder.txt", unknown.message + "\n");
    assert.throws(() => renderCniNetworkConfig(s('{"mtu": __CNI_MTU__,')), /is not JSON/);
    assert.throws(
      () => renderCniNetworkConfig(s('{"type": "calico"}')),
      /it needs a non-empty "plugins" list \(10-calico.conflist\)/,
    );
  });

  it("copies the plugin and writes the config and kubeconfig into the host's folders", async () => {
    const d = mkdtempSync(join(tmpdir(), "install-cni-"));
    try {
      const plugin = join(d, "image/opt/cni/bin");
      mkdirSync(join(plugin, "calico-lab/dist/bin"), { recursive: true });
      writeFileSync(join(plugin, "calico"), "#!/usr/bin/node\n", { mode: 0o755 });
      writeFileSync(join(plugin, "calico-lab/dist/bin/cni.mjs"), "// bundle\n");
      writeFileSync(join(d, "token"), "tok\n");
      writeFileSync(join(d, "ca.crt"), "CA\n");
      const paths = {
        pluginDir: plugin,
        hostBin: join(d, "host/opt/cni/bin"),
        hostNet: join(d, "host/etc/cni/net.d"),
        serviceAccountToken: join(d, "token"),
        serviceAccountCa: join(d, "ca.crt"),
      };
      const r = await installCni(installSettingsFromEnv(podEnv(OURS), "h"), paths);
      assert.deepEqual(r.copied, [
        join(paths.hostBin, "calico-lab/dist/bin/cni.mjs"),
        join(paths.hostBin, "calico"),
      ]);
      assert.equal(statSync(join(paths.hostBin, "calico")).mode & 0o777, 0o755);
      const conf = JSON.parse(readFileSync(join(paths.hostNet, "10-calico.conflist"), "utf8")) as {
        name: string;
      };
      assert.equal(conf.name, "k8s-pod-network");
      const kubeconfig = readFileSync(join(paths.hostNet, "calico-kubeconfig"), "utf8");
      assert.match(kubeconfig, /server: https:\/\/10\.96\.0\.1:443\n/);
      assert.match(kubeconfig, /token: "tok"/);
      assert.match(
        kubeconfig,
        new RegExp(`certificate-authority-data: "${Buffer.from("CA\n").toString("base64")}"`),
      );
      assert.equal(statSync(join(paths.hostNet, "calico-kubeconfig")).mode & 0o777, 0o600);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
