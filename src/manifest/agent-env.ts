// What kubelet gives calico-node's container as its environment, read from the manifest the lab applies:
// literal values, calico-config's keys (configMapKeyRef) and the pod's own fields (fieldRef, the downward
// API), as kubelet resolves them. Our agent's entrypoint reads its settings from that environment
// (src/agent/startup/env.ts), so what it needs must resolve here; agentEnvProblems says what does not.
// Pure.
import { isMap, isScalar } from "yaml";
import { locateCalicoNode, scalarText, type CalicoNodeManifest, type EnvEntry } from "./calico-node.ts";
import { shown, type ManifestProblem } from "./problems.ts";

/** The pod fields the lab's DaemonSet refers to, as kubelet would fill them in on one node. */
export interface PodFields {
  /** spec.nodeName: the node the pod runs on. */
  nodeName: string;
}

/**
 * Environment our agent's entrypoint must get from the DaemonSet, and why. NODENAME: settingsFromEnv
 * refuses to start without it; ETCD_ENDPOINTS: its datastore; DATASTORE_TYPE: it runs only on etcdv3;
 * CALICO_NETWORKING_BACKEND: whether it runs BIRD.
 */
const FROM_ETCD_TEMPLATE = "start from templates/calico-etcd.yaml (the etcd datastore our agent runs on)";
export const AGENT_REQUIRED_ENV: Record<string, { why: string; fix: string }> = {
  NODENAME: {
    why: "the agent names its Calico node with it (from the pod's spec.nodeName)",
    fix: "render with the image knob (nodeImage), which adds it from spec.nodeName",
  },
  ETCD_ENDPOINTS: { why: "the agent's datastore (calico-config etcd_endpoints)", fix: FROM_ETCD_TEMPLATE },
  DATASTORE_TYPE: { why: "the agent runs on the etcdv3 datastore only", fix: FROM_ETCD_TEMPLATE },
  CALICO_NETWORKING_BACKEND: {
    why: "whether the agent runs BIRD (calico-config calico_backend)",
    fix: "add it from calico-config calico_backend, as every upstream calico.yaml has it",
  },
};

const str = (n: unknown): string | undefined =>
  isScalar(n) && typeof n.value === "string" ? n.value : undefined;

type Resolved = { ok: true; value: string } | { ok: false; why: string };

function resolve(m: CalicoNodeManifest, e: EnvEntry, pod: PodFields): Resolved {
  const value = e.item.get("value", true);
  if (isScalar(value)) return { ok: true, value: scalarText(value) };
  const cm = e.item.getIn(["valueFrom", "configMapKeyRef"], true);
  if (isMap(cm)) {
    const name = str(cm.get("name", true)) ?? "";
    const key = str(cm.get("key", true)) ?? "";
    const node = m.configMaps.get(name)?.data?.get(key, true);
    if (isScalar(node)) return { ok: true, value: scalarText(node) };
    return { ok: false, why: `refers to ConfigMap ${name} key ${key}, which the manifest does not have` };
  }
  const field = str(e.item.getIn(["valueFrom", "fieldRef", "fieldPath"], true));
  if (field === "spec.nodeName") return { ok: true, value: pod.nodeName };
  if (field !== undefined)
    return { ok: false, why: `takes pod field ${field}, which the lab does not resolve` };
  return { ok: false, why: "has no value kubelet could give it" };
}

/** calico-node's environment as kubelet would set it on `pod`'s node; entries that do not resolve are left out. */
export function calicoNodeEnv(text: string, pod: PodFields, subject = "manifest"): Record<string, string> {
  const m = locateCalicoNode(text, subject);
  const env: Record<string, string> = {};
  for (const e of m.env) {
    const r = resolve(m, e, pod);
    if (r.ok) env[e.name] = r.value;
  }
  return env;
}

/** What our agent needs from the DaemonSet's environment and would not get: empty for a manifest the lab can apply. */
export function agentEnvProblems(text: string, subject = "manifest"): ManifestProblem[] {
  const m = locateCalicoNode(text, subject);
  const problems: ManifestProblem[] = [];
  const probe: PodFields = { nodeName: "node" };
  for (const [name, { why, fix }] of Object.entries(AGENT_REQUIRED_ENV)) {
    const e = m.env.find((x) => x.name === name);
    if (!e) {
      problems.push({
        field: name,
        value: "(absent)",
        message: `calico-node's container has no ${name}: ${why}`,
        fix,
      });
      continue;
    }
    const r = resolve(m, e, probe);
    if (!r.ok) {
      problems.push({ field: name, value: "(unresolved)", message: `${name} ${r.why}: ${why}`, fix });
      continue;
    }
    if (name === "NODENAME" && r.value !== probe.nodeName)
      problems.push({
        field: name,
        value: shown(r.value),
        message: "a fixed node name: every node's agent would register as the same Calico node",
        fix: "take it from the pod: valueFrom.fieldRef.fieldPath spec.nodeName",
      });
    if (name === "DATASTORE_TYPE" && r.value !== "etcdv3")
      problems.push({
        field: name,
        value: shown(r.value),
        message: why,
        fix,
      });
  }
  return problems;
}
