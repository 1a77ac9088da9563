// Underlay: every host reaches every other host (or the ring sample of a big lab) over the underlay.
import { verifyUnderlay } from "../underlay.ts";
import { defineCheck } from "./spec.ts";

export const underlayCheck = defineCheck({
  categories: { underlay: { title: "Underlay: host to host", markdownOrder: 0 } },
  async run(ctx) {
    const underlay = await verifyUnderlay(ctx.plan, ctx.deadlineMs);
    return underlay.checks.map((c) => ({ ...c, category: "underlay" as const }));
  },
});
