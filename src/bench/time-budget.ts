// The time budget of one `pulumi up` or `destroy`: where its wall time went, from the spans the program and
// the dynamic-provider process append to the CALICO_LAB_TIMINGS file (src/effects/timings.ts) and the
// command's own start and end (taken by bench/lab-cycle). Pure: spans in, lines out.
import type { TimingSpan } from "../effects/timings.ts";

export interface BudgetLine {
  label: string;
  ms: number;
  /** How many spans it covers and their summed time (for the operations done at once). */
  count?: number;
  sumMs?: number;
}

const ORDER = [
  "runFolder", "netns", "file", "bridge", "underlayPort", "vmHost", "etcd", "calicoResources", "outsideRouter",
  "agent", "kubeRuntime", "kubeNode", "kubeCalico", "pod", "kubePod", "verification",
]; // prettier-ignore

const NAMES: Record<string, string> = {
  agent: "agent start to ready",
  pod: "pods (netns, CNI, echo server)",
  verification: "verification",
};

/**
 * Lines in time order: the engine up to the program, the program's load and main, the engine up to the
 * provider's handlers loaded, each kind's operations (the window from the first start to the last end, with
 * the count and summed time), each verification category, and the engine after the last operation.
 */
export function timeBudget(spans: readonly TimingSpan[], startMs: number, endMs: number): BudgetLine[] {
  const lines: BudgetLine[] = [];
  const find = (what: string, op: string) => spans.find((s) => s.what === what && s.op === op);
  const load = find("program", "load");
  const main = find("program", "main");
  const provider = find("provider", "load");
  if (load) lines.push({ label: "engine start to program start", ms: load.startMs - startMs });
  if (load) lines.push({ label: "program load (Pulumi SDK, program bundle)", ms: load.endMs - load.startMs });
  if (main)
    lines.push({ label: "program main (config, manifest, preflight)", ms: main.endMs - main.startMs });
  if (provider) {
    lines.push({
      label: "engine to provider process start",
      ms: provider.startMs - (main?.endMs ?? startMs),
    });
    lines.push({
      label: "provider load (Pulumi SDK, handler bundle)",
      ms: provider.endMs - provider.startMs,
    });
  }
  const ops = spans.filter((s) => s.what !== "program" && s.what !== "provider" && s.what !== "verify");
  const kinds = [...new Set(ops.map((s) => s.what))].sort(
    (a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99),
  );
  for (const kind of kinds) {
    const of = ops.filter((s) => s.what === kind);
    const byOp = [...new Set(of.map((s) => s.op))];
    for (const op of byOp) {
      const these = of.filter((s) => s.op === op);
      const first = Math.min(...these.map((s) => s.startMs));
      const last = Math.max(...these.map((s) => s.endMs));
      lines.push({
        label: `${(op === "create" ? NAMES[kind] : undefined) ?? kind} ${op}`,
        ms: last - first,
        count: these.length,
        sumMs: these.reduce((n, s) => n + s.endMs - s.startMs, 0),
      });
      if (kind === "verification")
        for (const v of spans.filter((s) => s.what === "verify"))
          lines.push({ label: `  check ${v.label ?? ""}`, ms: v.endMs - v.startMs });
    }
  }
  const lastEnd = Math.max(...spans.map((s) => s.endMs), startMs);
  lines.push({ label: "engine after the last operation", ms: endMs - lastEnd });
  return lines;
}

export function formatBudget(title: string, lines: readonly BudgetLine[], totalMs: number): string {
  const out = [`${title}: ${(totalMs / 1000).toFixed(2)} s`];
  for (const l of lines) {
    const extra =
      l.count && l.count > 1 ? `  (${l.count} at once, ${(l.sumMs! / 1000).toFixed(2)} s summed)` : "";
    out.push(`  ${l.label.padEnd(46)} ${(l.ms / 1000).toFixed(2).padStart(6)} s${extra}`);
  }
  return out.join("\n");
}
