// A stack's pod as a Kubernetes Pod: busybox sleeping (the seeds' `kubectl run busybox --image=busybox --
// sleep …`) or the echo server, placed on its host by nodeSelector (kubernetes.io/hostname), from images
// imported on the nodes (never pulled). Pure.
import { stringify } from "yaml";

export interface KubePodInputs {
  name: string;
  namespace: string;
  /** The node it must run on (the plan's host). */
  node: string;
  /** The image's ref as imported (docker.io/library/busybox:latest, the echo image's). */
  image: string;
  /** The echo server (listens on `port`), or busybox sleeping. */
  server: boolean;
  port: number;
}

/** The label every lab pod carries: `kubectl get pods -l calico-lab/pod` lists them. */
export const POD_LABEL = "calico-lab/pod";
const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function podManifest(p: KubePodInputs): string {
  for (const [k, v] of [
    ["name", p.name],
    ["namespace", p.namespace],
    ["node", p.node],
  ] as const)
    if (!NAME.test(v)) throw new Error(`pod ${k} "${v}" is not a Kubernetes name (lower case, digits, -)`);
  if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535)
    throw new Error(`pod port ${p.port} is not a port`);
  const container = p.server
    ? {
        name: "echo",
        image: p.image,
        imagePullPolicy: "Never",
        args: [String(p.port), p.name],
        ports: [{ containerPort: p.port, protocol: "TCP" }],
      }
    : {
        name: "busybox",
        image: p.image,
        imagePullPolicy: "Never",
        command: ["sleep", "2147483647"],
      };
  return stringify(
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: p.name, namespace: p.namespace, labels: { [POD_LABEL]: p.name } },
      spec: {
        nodeSelector: { "kubernetes.io/hostname": p.node },
        // The plan may put a pod on the master, which keeps kubeadm's control-plane taint.
        tolerations: [
          { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
        ],
        terminationGracePeriodSeconds: 0,
        containers: [container],
      },
    },
    { lineWidth: 0 },
  );
}
