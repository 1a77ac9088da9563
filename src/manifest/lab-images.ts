// The image knob: a rendered calico.yaml made into what the lab applies to its kubeadm cluster. calico-node's
// DaemonSet runs our image (install-cni and calico-node from calico-lab/node:<tag>, never pulled: there is no
// registry), calico-kube-controllers is dropped, and no upstream image is left. Pure text surgery at node
// ranges, as the renderer's, so every untouched line survives byte for byte.
//
// The contract with the image (docs/kubernetes.md): /usr/local/bin/calico-node is our agent's entrypoint,
// upstream's start_runit equivalent, reading calico-node's environment, and it answers the probe flags
// (-felix-live, -felix-ready, -bird-ready, -bird-live); /usr/local/bin/install-cni is upstream's install-cni
// equivalent (CNI binaries into /host/opt/cni/bin, CNI_NETWORK_CONFIG into
// /host/etc/cni/net.d/$CNI_CONF_NAME).
import {
  isMap,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Document,
  type Node,
  type Scalar,
  type YAMLMap,
  type YAMLSeq,
} from "yaml";
import { CALICO_NODE, locateCalicoNode } from "./calico-node.ts";
import { ManifestError, shown, type ManifestNote } from "./problems.ts";

/** Our calico-node image as the images helper tags it: `calico-lab/node:<tag>`. */
export const LAB_NODE_IMAGE = /^calico-lab\/node:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** Images the lab builds itself; any other image in what it applies would have to be pulled. */
export const LAB_IMAGE = /^calico-lab\/[a-z0-9]+(?:[._-][a-z0-9]+)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** The image's entrypoints (docs/kubernetes.md). */
export const AGENT_ENTRYPOINT = "/usr/local/bin/calico-node";
export const INSTALL_CNI_ENTRYPOINT = "/usr/local/bin/install-cni";
export const INSTALL_CNI = "install-cni";
/**
 * The host's named network namespaces: our agent finds which lab host it is by matching its own network
 * namespace against /run/netns (a hostNetwork pod shares the namespace kubelet runs in, the host's).
 */
export const NETNS_DIR = "/run/netns";
const NETNS_VOLUME = "lab-netns";
/** Upstream's calico-node binary in its image, which the probes call. */
const UPSTREAM_CALICO_NODE = "/bin/calico-node";

/** What calico-kube-controllers brings; dropped (documents named so) from the applied manifest. */
export const KUBE_CONTROLLERS = "calico-kube-controllers";
const KUBE_CONTROLLERS_KINDS = [
  "Deployment",
  "ServiceAccount",
  "ClusterRole",
  "ClusterRoleBinding",
  "Role",
  "RoleBinding",
  "PodDisruptionBudget",
] as const;

export interface LabImageResult {
  text: string;
  changes: string[];
  notes: ManifestNote[];
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

const str = (n: unknown): string | undefined =>
  isScalar(n) && typeof n.value === "string" ? n.value : undefined;
const range = (n: Node): [number, number, number] => {
  if (!n.range) throw new Error("yaml node without a source range");
  return n.range;
};
const lineStart = (t: string, off: number) => t.lastIndexOf("\n", off - 1) + 1;
/** The offset just past the line holding `off`. */
const lineEnd = (t: string, off: number) => {
  const nl = t.indexOf("\n", off);
  return nl < 0 ? t.length : nl + 1;
};

/**
 * The manifest the lab applies: `nodeImage` (calico-lab/node:<tag>) for install-cni and calico-node, with
 * imagePullPolicy Never and our entrypoints; calico-node's other init containers and calico-kube-controllers
 * dropped, each with a note; NODENAME from spec.nodeName when the manifest has none (our agent needs it).
 */
export function applyLabImages(text: string, nodeImage: string, subject = "manifest"): LabImageResult {
  if (!LAB_NODE_IMAGE.test(nodeImage)) {
    throw new ManifestError(subject, [
      {
        field: "nodeImage",
        value: shown(nodeImage),
        message: "the lab applies only its own calico-node image, calico-lab/node:<tag>",
        fix: "pass the tag the lab's image build gave it, e.g. calico-lab/node:v0.1.0",
      },
    ]);
  }
  const m = locateCalicoNode(text, subject);
  const edits: Edit[] = [];
  const changes: string[] = [];
  const notes: ManifestNote[] = [];

  const dropped = dropKubeControllers(m.docs, edits);
  if (dropped.length > 0)
    notes.push({
      field: KUBE_CONTROLLERS,
      message:
        `dropped from the applied manifest (${dropped.join(", ")}): it garbage-collects Calico's data of deleted ` +
        "nodes and pods, and the lab's nodes live as long as the lab; there is no image of it here",
    });

  const spec = m.daemonSet.getIn(["spec", "template", "spec"], true);
  const init = isMap(spec) ? spec.get("initContainers", true) : undefined;
  if (isSeq(init)) {
    const items = init.items.filter(isMap) as YAMLMap[];
    for (const c of items) {
      const name = str(c.get("name", true)) ?? "(no name)";
      if (name !== INSTALL_CNI) {
        edits.push(removeSeqItem(text, c));
        notes.push({
          field: `initContainers/${name}`,
          message:
            `dropped from calico-node's DaemonSet: the lab's image runs only ${INSTALL_CNI} (${INSTALL_CNI_ENTRYPOINT}) ` +
            "and calico-node, and this step is not one the lab needs",
        });
        continue;
      }
      useLabImage(text, subject, c, nodeImage, INSTALL_CNI_ENTRYPOINT, edits, changes);
    }
  }
  useLabImage(text, subject, m.container, nodeImage, AGENT_ENTRYPOINT, edits, changes);
  probesToAgent(text, m.container, edits, changes);
  mountNetnsDir(text, subject, m.container, spec as YAMLMap, edits, changes);
  if (!m.env.some((e) => e.name === "NODENAME")) {
    edits.push(nodeNameEnv(text, m.envSeq));
    changes.push("NODENAME: added, from the pod's spec.nodeName (our agent names its node with it)");
  }
  return { text: applyEdits(text, edits), changes, notes };
}

/** Removes each calico-kube-controllers document (its whole range, `---` and leading comments included). */
function dropKubeControllers(docs: Document.Parsed[], edits: Edit[]): string[] {
  const dropped: string[] = [];
  for (const d of docs) {
    if (!isMap(d.contents)) continue;
    const kind = str(d.contents.get("kind", true));
    const name = str(d.getIn(["metadata", "name"], true));
    if (
      name !== KUBE_CONTROLLERS ||
      !(KUBE_CONTROLLERS_KINDS as readonly (string | undefined)[]).includes(kind)
    )
      continue;
    dropped.push(kind!);
    edits.push({ start: d.range[0], end: d.range[2], text: "" });
  }
  return dropped;
}

/** A block sequence item, the comment lines right above its dash included. */
function removeSeqItem(t: string, item: YAMLMap): Edit {
  const [s, , e] = range(item);
  let start = lineStart(t, s);
  for (;;) {
    if (start === 0) break;
    const prev = lineStart(t, start - 1);
    if (!/^\s*#/.test(t.slice(prev, start))) break;
    start = prev;
  }
  const end = t[e - 1] === "\n" ? e : lineEnd(t, e);
  return { start, end, text: "" };
}

/** image, imagePullPolicy Never and the entrypoint of one container. */
function useLabImage(
  t: string,
  subject: string,
  c: YAMLMap,
  image: string,
  entrypoint: string,
  edits: Edit[],
  changes: string[],
): void {
  const name = str(c.get("name", true)) ?? CALICO_NODE;
  const imageNode = c.get("image", true);
  const pair = c.items.find((p) => isScalar(p.key) && p.key.value === "image");
  if (!isScalar(imageNode) || !pair) {
    // A container without an image is refused by Kubernetes anyway; the check below lists nothing for it.
    throw new ManifestError(subject, [
      {
        field: `${name} image`,
        value: "(none)",
        message: "the container has no image to replace",
        fix: "start from templates/calico-etcd.yaml or an upstream calico.yaml",
      },
    ]);
  }
  const [a, b] = range(imageNode);
  changes.push(`${name} image: ${t.slice(a, b)} → ${JSON.stringify(image)}`);
  edits.push({ start: a, end: b, text: JSON.stringify(image) });
  const keyStart = range(pair.key as Node)[0];
  const indent = " ".repeat(keyStart - lineStart(t, keyStart));
  const after = lineEnd(t, b);
  const added: string[] = [];
  for (const [k, v] of [
    ["imagePullPolicy", "Never"],
    ["command", JSON.stringify([entrypoint])],
  ] as const) {
    const node = c.get(k, true);
    if (node === undefined) {
      added.push(`${indent}${k}: ${v}\n`);
      changes.push(`${name} ${k}: added ${v}`);
      continue;
    }
    const [s, , e] = range(node as Node);
    const old = t.slice(s, e).trimEnd();
    if (old === v) continue;
    changes.push(`${name} ${k}: ${old.replace(/\s+/g, " ")} → ${v}`);
    // A block value spans lines: the flow form replaces it up to its end, keeping the line break.
    edits.push({ start: s, end: s + t.slice(s, e).trimEnd().length, text: v });
  }
  if (added.length > 0) edits.push({ start: after, end: after, text: added.join("") });
}

/** calico-node's probes call upstream's binary: ours is at the image's entrypoint. */
function probesToAgent(t: string, c: YAMLMap, edits: Edit[], changes: string[]): void {
  for (const probe of ["livenessProbe", "readinessProbe"]) {
    const cmd = c.getIn([probe, "exec", "command"], true);
    if (!isSeq(cmd)) continue;
    const first = (cmd as YAMLSeq).items[0];
    if (!isScalar(first) || first.value !== UPSTREAM_CALICO_NODE) continue;
    const [a, b] = range(first as Scalar);
    edits.push({ start: a, end: b, text: AGENT_ENTRYPOINT });
    changes.push(`calico-node ${probe}: ${UPSTREAM_CALICO_NODE} → ${AGENT_ENTRYPOINT}`);
  }
}

/** One more item at the end of a block sequence, indented as its last item. */
function appendItem(t: string, seq: YAMLSeq, lines: string[]): Edit {
  const last = seq.items.at(-1) as Node | undefined;
  if (!last || seq.flow) throw new Error("appendItem: an empty or flow sequence");
  const [s, , e] = range(last);
  const ls = lineStart(t, s);
  const mapCol = s - ls;
  const dashCol = Math.max(0, t.slice(ls, s).search(/-/));
  const at = t[e - 1] === "\n" ? e : lineEnd(t, e);
  const text = lines
    .map((l, i) =>
      i === 0
        ? `${" ".repeat(dashCol)}-${" ".repeat(mapCol - dashCol - 1)}${l}`
        : `${" ".repeat(mapCol)}${l}`,
    )
    .join("\n");
  return { start: at, end: at, text: `${text}\n` };
}

/** /run/netns of the host, read-only, into calico-node's container (see NETNS_DIR). */
function mountNetnsDir(
  t: string,
  subject: string,
  c: YAMLMap,
  podSpec: YAMLMap,
  edits: Edit[],
  changes: string[],
): void {
  const mounts = c.get("volumeMounts", true);
  const volumes = podSpec.get("volumes", true);
  if (
    !isSeq(mounts) ||
    mounts.flow ||
    mounts.items.length === 0 ||
    !isSeq(volumes) ||
    volumes.flow ||
    volumes.items.length === 0
  )
    throw new ManifestError(subject, [
      {
        field: "calico-node volumeMounts",
        value: "(none)",
        message: `the image knob adds the host's ${NETNS_DIR} beside calico-node's own mounts, and found none`,
        fix: "start from templates/calico-etcd.yaml or an upstream calico.yaml",
      },
    ]);
  const mounted = mounts.items.some((i) => isMap(i) && str(i.get("mountPath", true)) === NETNS_DIR);
  if (mounted) return;
  edits.push(appendItem(t, mounts, [`mountPath: ${NETNS_DIR}`, `name: ${NETNS_VOLUME}`, "readOnly: true"]));
  edits.push(appendItem(t, volumes, [`name: ${NETNS_VOLUME}`, "hostPath:", `  path: ${NETNS_DIR}`]));
  changes.push(
    `calico-node volumeMounts: added the host's ${NETNS_DIR} (read-only; our agent finds its host by it)`,
  );
}

/** `NODENAME` from the downward API, first in calico-node's env list (indented as its first entry). */
function nodeNameEnv(t: string, env: YAMLSeq): Edit {
  const first = env.items[0] as Node | undefined;
  if (!first) throw new Error("calico-node has an empty env list");
  const s = range(first)[0];
  const ls = lineStart(t, s);
  const mapCol = s - ls;
  const dashCol = Math.max(0, t.slice(ls, s).search(/-/));
  const pad = (n: number) => " ".repeat(n);
  const text =
    `${pad(dashCol)}-${pad(mapCol - dashCol - 1)}name: NODENAME\n` +
    `${pad(mapCol)}valueFrom:\n${pad(mapCol + 2)}fieldRef:\n${pad(mapCol + 4)}fieldPath: spec.nodeName\n`;
  return { start: ls, end: ls, text };
}

function applyEdits(t: string, edits: Edit[]): string {
  const sorted = [...edits].sort((x, y) => y.start - x.start || y.end - x.end);
  let out = t;
  let limit = Infinity;
  for (const e of sorted) {
    if (e.end > limit) throw new Error(`lab images: overlapping edits at ${e.start}..${e.end}`);
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
    limit = e.start;
  }
  return out;
}

/** One container image in a manifest, where it is. */
export interface ImageUse {
  /** `Kind/name` of the workload. */
  workload: string;
  container: string;
  image: string;
}

/**
 * Every container image in `text` the lab does not build (anything but calico-lab/…): what kubelet would
 * have to pull. The applied manifest must have none.
 */
export function upstreamImages(text: string): ImageUse[] {
  const out: ImageUse[] = [];
  for (const d of parseAllDocuments(text)) {
    if (!isMap(d.contents)) continue;
    const workload = `${str(d.contents.get("kind", true)) ?? "(no kind)"}/${str(d.getIn(["metadata", "name"], true)) ?? "(no name)"}`;
    const visit = (n: unknown): void => {
      if (isSeq(n)) for (const i of n.items) visit(i);
      if (!isMap(n)) return;
      for (const p of n.items) {
        const k = str(p.key);
        if ((k === "containers" || k === "initContainers" || k === "ephemeralContainers") && isSeq(p.value)) {
          for (const c of p.value.items) {
            if (!isMap(c)) continue;
            const image = str(c.get("image", true));
            if (image !== undefined && !LAB_IMAGE.test(image))
              out.push({ workload, container: str(c.get("name", true)) ?? "(no name)", image });
          }
        } else visit(p.value);
      }
    };
    visit(d.contents);
  }
  return out;
}
