// Helm chart sources are not manifests: `{{ … }}` template actions are Go text/template, and a Chart.yaml
// is chart metadata. Either is recognised before YAML parsing, with one message: render the chart first.
import { parseAllDocuments, isMap, isScalar } from "yaml";
import type { ManifestProblem } from "./problems.ts";

/**
 * A Helm template action on a line that is not a YAML comment: `{{- … }}` / `{{ … -}}`, or `{{ … }}` that
 * reads chart data (.Values, .Release, …) or uses a template keyword or function. A bare `{{ x }}` in, say,
 * a CRD description is left alone.
 */
const ACTION =
  /\{\{-\s[^}]*\}\}|\{\{[^}]*\s-\}\}|\{\{\s*(?:\.(?:Values|Release|Chart|Capabilities|Files|Template)\b|\$|\/\*|(?:if|else|end|range|with|include|template|define|block|toYaml|tpl|required|default|printf|quote)\b)[^}]*\}\}/;
const COMMENT = /^\s*#/;

const RENDER_FIRST =
  "render the chart first: `helm template calico <chart directory> --namespace kube-system " +
  "[--values your-values.yaml] > calico.yaml`, then pass --input calico.yaml";

/** One problem when the text is a Helm chart source (template or Chart.yaml), else undefined. */
export function helmSourceProblem(text: string): ManifestProblem | undefined {
  const lines = text.split("\n");
  const actions: { line: number; text: string }[] = [];
  lines.forEach((l, i) => {
    if (COMMENT.test(l)) return;
    const m = ACTION.exec(l);
    if (m) actions.push({ line: i + 1, text: m[0] });
  });
  if (actions.length > 0) {
    const first = actions[0]!;
    const n = actions.length;
    return {
      field: "(Helm template)",
      value: `line ${first.line}: ${first.text}`,
      message:
        `a Helm chart template, not a rendered manifest: ${n} line${n === 1 ? " has" : "s have"} ` +
        "`{{ … }}` template actions, which only Helm can fill in (rendering would keep them as text)",
      fix: RENDER_FIRST,
    };
  }
  if (looksLikeChartYaml(text)) {
    return {
      field: "(Helm Chart.yaml)",
      value: "(apiVersion, name and version; no kind)",
      message: "a Helm chart's Chart.yaml (chart metadata), not a manifest",
      fix: RENDER_FIRST,
    };
  }
  return undefined;
}

function looksLikeChartYaml(text: string): boolean {
  let docs;
  try {
    docs = parseAllDocuments(text);
  } catch {
    return false;
  }
  if (!Array.isArray(docs) || docs.length !== 1) return false;
  const root = docs[0]!.contents;
  if (!isMap(root)) return false;
  const key = (k: string): unknown => {
    const v: unknown = root.get(k, true);
    return isScalar(v) ? v.value : undefined;
  };
  return (
    key("kind") === undefined &&
    (key("apiVersion") === "v1" || key("apiVersion") === "v2") &&
    typeof key("name") === "string" &&
    key("version") !== undefined
  );
}
