// The registry the dynamic provider loads by kind.
import { agentHandler } from "./agent-handler.ts";
import { bridgeHandler } from "./bridge-handler.ts";
import { calicoResourcesHandler } from "./calico-resources-handler.ts";
import { etcdHandler } from "./etcd-handler.ts";
import { outsideRouterHandler } from "./outside-router-handler.ts";
import { podHandler } from "./pod-handler.ts";
import { runFolderHandler } from "./run-folder-handler.ts";
import { fileHandler } from "./file-handler.ts";
import type { Handler } from "./handler.ts";
import { netnsHandler } from "./netns-handler.ts";
import { underlayPortHandler } from "./underlay-port-handler.ts";
import { verificationHandler } from "./verification-handler.ts";
import { vmHostHandler } from "./vm-host-handler.ts";
import { kubeNodeHandler } from "./kube-node-handler.ts";
import { kubeRuntimeHandler } from "./kube-runtime-handler.ts";
import { kubeCalicoHandler } from "./kube-calico-handler.ts";
import { kubePodHandler } from "./kube-pod-handler.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const handlers: Record<string, Handler<any, any>> = {
  netns: netnsHandler,
  agent: agentHandler,
  bridge: bridgeHandler,
  etcd: etcdHandler,
  calicoResources: calicoResourcesHandler,
  outsideRouter: outsideRouterHandler,
  pod: podHandler,
  runFolder: runFolderHandler,
  file: fileHandler,
  underlayPort: underlayPortHandler,
  verification: verificationHandler,
  vmHost: vmHostHandler,
  kubeRuntime: kubeRuntimeHandler,
  kubeNode: kubeNodeHandler,
  kubeCalico: kubeCalicoHandler,
  kubePod: kubePodHandler,
};
