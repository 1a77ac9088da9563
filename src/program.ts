// The Pulumi program: stack config → validated LabConfig and Calico variant → plan → components → outputs.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { labValues, parsedValue } from "./config/keys.ts";
import { readLabConfig } from "./config/read.ts";
import { formatProblems } from "./problems.ts";
import { Lab } from "./lab/components.ts";
import { LabFile, RunFolder } from "./lab/resources.ts";
import { kubernetesPath, planLab } from "./lab/topology.ts";
import { manifestImageRef, readClusterImages, IMAGES_DIR } from "./lab/cluster-images.ts";
import { labDaemonSet } from "./kubernetes/daemonset.ts";
import { hostBackends } from "./backends/index.ts";
import { degradable, degradedMessage, preflight } from "./agent/felix/preflight.ts";
import { loadTemplate, renderManifest } from "./manifest/index.ts";

// src/main.js loads the program as one bundle (dist/bin/program.mjs) and records its spans with these.
export { nowMs, recordTiming, timed } from "./effects/timings.ts";
import { timed } from "./effects/timings.ts";

export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Where a stack's run files live (rendered manifest, later daemons' state): .lab/<stack>/. */
export function stackRunDir(stack: string): string {
  return join(REPO_ROOT, ".lab", stack);
}

/** Raw `calico-lab:*` values (objects parsed from JSON), every key present, and every value as text. */
export function readStackConfig(): {
  raw: Record<string, unknown>;
  keys: string[];
  values: Record<string, string>;
} {
  const all = pulumi.runtime.allConfig();
  const { raw } = labValues(Object.fromEntries(Object.entries(all).map(([k, v]) => [k, parsedValue(v)])));
  // Values of other namespaces are shown only in messages about those keys: never a secret's plain text.
  // (isConfigSecret is the SDK's own test; it is internal, so without it no such value is shown.)
  const isSecret = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(all))
    values[k] = !isSecret ? "[not shown]" : isSecret(k) ? "[secret]" : v;
  return { raw, keys: Object.keys(all), values };
}

export async function main() {
  const stack = pulumi.getStack();
  const { raw, keys, values } = readStackConfig();
  const checked = readLabConfig(stack, raw, keys, values);
  // Rejected at preview, before anything is created, with every problem listed.
  if (!checked.ok) throw new pulumi.RunError(formatProblems(`stack "${stack}"`, checked.problems));
  const { config, variant, network } = checked;
  // A kubeadm cluster's images must all be built (scripts/setup --kubernetes) before anything is created.
  const images = kubernetesPath(config, {
    none: () => undefined,
    kubeadm: () => {
      const read = readClusterImages(stack, process.env.CALICO_LAB_IMAGES_DIR ?? IMAGES_DIR);
      if (!read.ok) throw new pulumi.RunError(read.message);
      return read.images;
    },
  });
  const runDir = stackRunDir(stack);
  const manifestPath = join(runDir, "calico.yaml");

  // The manifest is the one source of truth: the agent reads its settings from this file. With kubeadm it is
  // also what kubectl applies: our calico-node image, and the lab's mounts for the agent in it.
  const rendered = renderManifest(loadTemplate("etcdv3"), variant, {
    network,
    subject: `stack "${stack}"`,
    ...(images ? { nodeImage: manifestImageRef(images.calicoNode.ref) } : {}),
  });
  for (const n of images ? rendered.notes : []) void pulumi.log.info(`calico.yaml: ${n.field}: ${n.message}`);
  const manifest = images
    ? { ...rendered, text: labDaemonSet(rendered.text, { runDir, manifestPath, stack }) }
    : rendered;
  // Kernel features the mode needs, probed in a throwaway namespace: refused before anything is created.
  // Only when the hosts run on this kernel (hostBackends): a VM host's agent runs its own preflight there.
  if (hostBackends[config.backend].thisKernel && process.env.CALICO_LAB_SKIP_PREFLIGHT !== "1") {
    const missing = await timed("program", "preflight", config.mode, () => preflight(config.mode));
    const refused = missing.filter((m) => !degradable(config.mode, m.feature));
    if (refused.length > 0) throw new pulumi.RunError(refused.map((m) => m.message).join("\n"));
    for (const m of missing)
      if (degradable(config.mode, m.feature)) void pulumi.log.warn(degradedMessage(config.mode, m.feature));
  }

  const plan = planLab(config);
  const runFolder = new RunFolder("run-folder", { path: runDir });
  const manifestFile = new LabFile(
    "calico-yaml",
    { path: manifestPath, content: manifest.text },
    { dependsOn: [runFolder] },
  );
  const lab = new Lab(stack, plan, {
    manifestPath: manifestFile.path,
    manifestReady: manifestFile,
    runFolder,
    variant,
    runDir,
    ...(images ? { images } : {}),
  });
  const v = lab.verification;

  return {
    mode: config.mode,
    underlay: config.underlayCidr,
    podCidr: config.podCidr,
    switchNamespace: plan.switchNetns,
    hosts: Object.fromEntries(plan.hosts.map((h) => [h.name, { namespace: h.netns, address: h.cidr }])),
    ...(plan.router
      ? { router: { namespace: plan.router.netns, addresses: plan.router.legs.map((l) => l.cidr) } }
      : {}),
    pods: Object.fromEntries(
      lab.pods.map((p, i) => [
        plan.pods[i]!.name,
        { namespace: plan.pods[i]!.netns, host: plan.pods[i]!.host, ip: p.ip },
      ]),
    ),
    manifestFile: manifestFile.path,
    manifest: manifestFile.content,
    verification: {
      passed: v.passed,
      failed: v.failed,
      skipped: v.skipped,
      encapsulation: v.encapsulation,
      checks: v.checks,
    },
    report: { markdown: v.reportMarkdown, html: v.reportHtml },
  };
}
