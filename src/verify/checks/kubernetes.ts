// Kubernetes (a kubeadm lab only): every node Ready, calico-node N/N ready on our image, the stack's pods
// Running on their hosts with addresses in the pool, as kubectl shows them; kubectl's own views for the report.
import { kubernetesPath } from "../../lab/topology.ts";
import { kubectlReach } from "../../kubernetes/cluster.ts";
import { clusterChecks, kubectlExcerpts, readCluster } from "../kubernetes.ts";
import { defineCheck } from "./spec.ts";

export const kubernetesCheck = defineCheck({
  categories: { kubernetes: { title: "Kubernetes: nodes, calico-node DaemonSet, pods", markdownOrder: 0.5 } },
  async run(ctx) {
    return kubernetesPath(ctx.plan, {
      none: async () => [],
      kubeadm: async () => {
        const reach = kubectlReach(ctx.plan, ctx.runDir);
        const image = ctx.cluster?.nodeImage ?? "(unknown: the verification was not told the lab's image)";
        const checks = await ctx.retry(
          async () => clusterChecks(ctx.plan, await readCluster(reach), image),
          (cs) => cs.every((c) => c.ok),
        );
        ctx.findings.kubectl = await kubectlExcerpts(reach);
        return checks;
      },
    });
  },
});
