// What the lab adds to the applied calico.yaml's calico-node DaemonSet so that our agent, run by kubelet in our
// image, is the lab's calico-node on each node as the lab's own daemon would be: it reads the same rendered
// manifest (the one source of truth; the stack's run folder is mounted at its own path), writes its status
// where the verification reads it (<run folder>/<node>/status.json), and puts BIRD's control socket on the
// node's /run (a 9p share cannot hold sockets). The probes read those files (src/kubernetes/probe.ts).
// Pure: manifest text in, manifest text out (after the image knob, src/manifest/lab-images.ts).
import { isMap, isSeq, parseAllDocuments, YAMLMap, YAMLSeq, type Document } from "yaml";
import { CALICO_NODE } from "../manifest/calico-node.ts";
import { LAUNCH_ENV } from "../agent/daemon/status.ts";
import { PROBE_PATH } from "./probe.ts";

export interface LabDaemonSetInputs {
  /** The stack's run folder on this machine (shared with the VM hosts at the same path). */
  runDir: string;
  /** The rendered manifest the agent reads (in the run folder). */
  manifestPath: string;
  /** The stack's name: BIRD's socket folder is /run/calico-lab/<stack>-<node>, as the VM backend's. */
  stack: string;
}

/** How often kubelet runs calico-node's probes (s). */
export const PROBE_PERIOD_S = 30;
/**
 * How long one probe may take (s). kubelet's default is 1 s, and an exec in a TCG guest took longer
 * ("timeout 1s exceeded" on worker-1 in the 3-VM run); upstream's newer manifests give 10 s.
 */
export const PROBE_TIMEOUT_S = 10;

/** The node's /run/calico-lab, where the VM backend puts BIRD's control sockets (backends/vm socketDir). */
export const SOCKET_ROOT = "/run/calico-lab";
const PATH = /^\/[A-Za-z0-9._/-]+$/;
const STACK = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** The agent's arguments: kubelet expands $(NODENAME) and the two CALICO_LAB_* variables. */
export function agentArgs(i: LabDaemonSetInputs): string[] {
  return [
    "--manifest",
    i.manifestPath,
    "--nodename",
    "$(NODENAME)",
    "--run-dir",
    "$(CALICO_LAB_RUN_DIR)",
    "--socket-dir",
    "$(CALICO_LAB_SOCKET_DIR)",
  ];
}

function check(i: LabDaemonSetInputs): void {
  for (const [k, v] of [
    ["runDir", i.runDir],
    ["manifestPath", i.manifestPath],
  ] as const)
    if (!PATH.test(v))
      throw new Error(`the DaemonSet's ${k} "${v}" is not an absolute path of plain characters`);
  if (!i.manifestPath.startsWith(`${i.runDir}/`))
    throw new Error(`the manifest ${i.manifestPath} is not in the run folder ${i.runDir} the agent gets`);
  if (!STACK.test(i.stack)) throw new Error(`stack "${i.stack}" is not a plain name`);
}

function seqAt(map: YAMLMap, key: string): YAMLSeq {
  const s: unknown = map.get(key, true);
  if (isSeq(s)) return s;
  const fresh = new YAMLSeq();
  map.set(key, fresh);
  return fresh;
}

function named(seq: YAMLSeq, name: string): YAMLMap | undefined {
  return seq.items.find((i): i is YAMLMap => isMap(i) && i.get("name") === name);
}

function calicoNodeDaemonSet(docs: Document.Parsed[]): Document.Parsed | undefined {
  return docs.find((d) => {
    const j = d.toJS() as { kind?: string; metadata?: { name?: string } } | null;
    return j?.kind === "DaemonSet" && j.metadata?.name === CALICO_NODE;
  });
}

/** The applied manifest with the lab's additions to calico-node; throws when there is no calico-node. */
export function labDaemonSet(text: string, i: LabDaemonSetInputs): string {
  check(i);
  const docs = parseAllDocuments(text) as Document.Parsed[];
  const ds = calicoNodeDaemonSet(docs);
  if (!ds) throw new Error("the manifest has no calico-node DaemonSet to run our agent in");
  const podSpec = ds.getIn(["spec", "template", "spec"], true) as YAMLMap;
  const containers: unknown = podSpec.get("containers", true);
  const container = isSeq(containers) ? named(containers, CALICO_NODE) : undefined;
  if (!container) throw new Error("calico-node's DaemonSet has no calico-node container");
  container.set("args", ds.createNode(agentArgs(i)));
  const env = seqAt(container, "env");
  // After NODENAME: kubelet expands $(VAR) only from variables defined before.
  for (const [name, value] of [
    ["CALICO_LAB_RUN_DIR", `${i.runDir}/$(NODENAME)`],
    ["CALICO_LAB_SOCKET_DIR", `${SOCKET_ROOT}/${i.stack}-$(NODENAME)`],
  ] as const) {
    const have = named(env, name);
    if (have) have.set("value", value);
    else env.add(ds.createNode({ name, value }));
  }
  // The pod's UID as the agent's launch token (status.json carries it): the probes trust only a status
  // this pod's agent wrote, not the one a deleted pod left in the node's run folder (a mode switch).
  if (!named(env, LAUNCH_ENV))
    env.add(ds.createNode({ name: LAUNCH_ENV, valueFrom: { fieldRef: { fieldPath: "metadata.uid" } } }));
  const mounts = seqAt(container, "volumeMounts");
  const volumes = seqAt(podSpec, "volumes");
  for (const [name, path] of [
    ["lab-run-folder", i.runDir],
    ["lab-sockets", SOCKET_ROOT],
  ] as const) {
    if (!named(mounts, name)) mounts.add(ds.createNode({ name, mountPath: path }));
    if (!named(volumes, name))
      volumes.add(ds.createNode({ name, hostPath: { path, type: "DirectoryOrCreate" } }));
  }
  for (const [probe, flags] of [
    ["livenessProbe", ["-felix-live"]],
    ["readinessProbe", ["-felix-ready", ...(hasBirdProbe(container) ? ["-bird-ready"] : [])]],
  ] as const) {
    const p = container.get(probe, true);
    if (!isMap(p)) continue;
    p.delete("httpGet");
    p.set("exec", ds.createNode({ command: [PROBE_PATH, ...flags] }));
    // Each probe is a runc exec: under TCG one costs a node's kubelet real CPU (47 % on the master in the
    // 3-VM run). Every 30 s instead of 10 s, the same number of failures before kubelet acts.
    p.set("periodSeconds", PROBE_PERIOD_S);
    p.set("timeoutSeconds", PROBE_TIMEOUT_S);
  }
  return docs.map((d) => d.toString({ lineWidth: 0 })).join("");
}

/** Whether the template's readiness probe asks for BIRD (not in VXLAN manifests, which run no BIRD). */
function hasBirdProbe(container: YAMLMap): boolean {
  const cmd = container.getIn(["readinessProbe", "exec", "command"]);
  const flags = Array.isArray(cmd) ? cmd : isSeq(cmd) ? (cmd.toJSON() as unknown[]) : [];
  return flags.some((f) => typeof f === "string" && /^--?bird-(ready|live)$/.test(f));
}
