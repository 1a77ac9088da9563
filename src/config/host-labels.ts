// A host's labels in the stack config: Kubernetes label syntax, and never a label the lab or agent sets.
import { problem, shown, type Problem } from "../problems.ts";
import { labelKeyProblem, labelValueProblem } from "./labels.ts";
import { key, type Raw } from "./model.ts";

/** Labels the lab sets itself: a host is a route reflector through calico-lab:routeReflectors only. */
const LAB_LABELS = ["route-reflector"] as const;
/** Labels every node's agent sets (as a kubelet would): the node's name and its OS. */
const NODE_LABELS = ["kubernetes.io/hostname", "kubernetes.io/os"] as const;

/** The labels of `hosts[i]` (its field given), the refused ones left out and each reported. */
export function parseLabels(field: string, labels: unknown, problems: Problem[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (labels === undefined) return out;
  if (typeof labels !== "object" || labels === null || Array.isArray(labels)) {
    problems.push(
      problem(`${field}.labels`, labels, "labels must be a map of strings", 'write e.g. {"worker": "no-1"}'),
    );
    return out;
  }
  for (const [lk, lv] of Object.entries(labels as Raw)) {
    const problem = labelProblem(`${field}.labels`, lk, lv);
    if (problem) problems.push(problem);
    else out[lk] = String(lv);
  }
  return out;
}

/** The problem with a label that is not a Kubernetes label or is one the lab sets itself, if any. */
function labelProblem(labelsField: string, k: string, v: unknown): Problem | undefined {
  const field = /^[A-Za-z0-9_-]+$/.test(k) ? `${labelsField}.${k}` : `${labelsField}[${JSON.stringify(k)}]`;
  const problem = (message: string, fix: string): Problem => ({ field, value: shown(v), message, fix });
  const keyWhy = labelKeyProblem(k);
  if (keyWhy)
    return problem(
      `not a Kubernetes label key: ${keyWhy}`,
      'write a key such as "worker" or "example.com/zone" (name at most 63 characters)',
    );
  if ((LAB_LABELS as readonly string[]).includes(k))
    return problem(
      "the lab sets this label itself on the hosts in calico-lab:routeReflectors",
      `remove the label and list the host in ${key("routeReflectors")}`,
    );
  if ((NODE_LABELS as readonly string[]).includes(k))
    return problem(
      "every node's agent sets this label itself (the node's name, or linux), as a kubelet would",
      "remove the label, or use a key of your own such as example.com/name",
    );
  if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean")
    return problem("a label value must be a string", 'write e.g. "no-1"');
  const valueWhy = labelValueProblem(String(v));
  if (!valueWhy) return undefined;
  const cleaned = String(v)
    .replace(/[^-A-Za-z0-9_.]+/g, "-")
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "")
    .slice(0, 63)
    .replace(/[^A-Za-z0-9]+$/, "");
  return problem(
    `not a Kubernetes label value: ${valueWhy}`,
    cleaned ? `write e.g. ${shown(cleaned)}` : 'write e.g. "no-1", or "" for an empty value',
  );
}
