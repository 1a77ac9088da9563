// kubeadm's configuration for the lab's VM hosts, as text (`kubeadm init --config` on the master,
// `kubeadm join --config` on each worker). Pure: the lab writes the text into a host and runs kubeadm
// there. API kubeadm.k8s.io/v1beta4 (Kubernetes v1.31+), kubelet.config.k8s.io/v1beta1. See
// docs/kubernetes.md for every choice made here and why.
//
// The hosts are unusual for kubeadm: no systemd (busybox is PID 1), cgroup v2 at /sys/fs/cgroup, no
// registry to pull from (every image is imported into containerd beforehand), the lab's own plain-http
// etcd as external etcd, one vCPU under TCG, and Go binaries that start 15-20x slower than natively.
import { isIPv4 } from "node:net";
import { stringify } from "yaml";
import { labelKeyProblem, labelValueProblem } from "../config/labels.ts";
import { ProblemError, problem, type Problem } from "../problems.ts";
import { BOOTSTRAP_TOKEN, CA_CERT_HASH } from "./bootstrap.ts";
import { KUBELET_LABEL_REFUSED, kubeletMaySetLabel } from "./node-labels.ts";
import { KUBERNETES_VERSION_PATTERN } from "./version.ts";

export const KUBEADM_API = "kubeadm.k8s.io/v1beta4";
export const KUBELET_API = "kubelet.config.k8s.io/v1beta1";
/** containerd's CRI socket (Debian's containerd, default config). */
export const CRI_SOCKET = "unix:///run/containerd/containerd.sock";
export const API_SERVER_PORT = 6443;

/**
 * Phases `kubeadm init` skips. CoreDNS: nothing in the lab resolves names (pods are reached by address,
 * calico-node reads etcd at an address), and its image would be one more to build. kube-proxy: nothing in
 * the lab uses a Service's cluster IP (calico-node's datastore is etcd, not the API through
 * kubernetes.default; kubectl talks to the API server's own address).
 */
export const SKIPPED_PHASES = ["addon/coredns", "addon/kube-proxy"] as const;
/** The line the lab prints when it runs kubeadm init: the skips are visible, never silent. */
export const SKIPPED_PHASES_NOTICE =
  "kubeadm: skipped phases addon/coredns and addon/kube-proxy: no cluster DNS and no Service cluster IPs " +
  "in this lab (pods are reached by address; calico-node reads etcd directly)";

/**
 * kubeadm's waits, scaled for TCG (no KVM here: every guest instruction is translated). Go binaries start
 * 15-20x slower than natively (kube-apiserver --version: ~2 s), so a control plane that is up in ~15 s on
 * hardware takes minutes. First guesses, to be tuned from measured `kubeadm init` runs; the defaults
 * (v1.34) are in each comment.
 */
export const TCG_TIMEOUTS = {
  /** The static pods (API server, controller manager, scheduler) healthy. Default 4m. */
  controlPlaneComponentHealthCheck: "10m0s",
  /** kubelet's /healthz after kubeadm starts it (here: after the lab's kubelet loop sees its config). Default 4m. */
  kubeletHealthCheck: "6m0s",
  /** Each call to the API server (uploads, RBAC, bootstrap token, node patch). Default 1m. */
  kubernetesAPICall: "3m0s",
  /** Calls to etcd; with external etcd only the version check uses it. Default 2m. */
  etcdAPICall: "3m0s",
  /** A joining kubelet's TLS bootstrap (CSR signed, kubelet.conf written). Default 5m. */
  tlsBootstrap: "10m0s",
  /** A joining node's discovery of the cluster (cluster-info ConfigMap, CA pinned). Default 5m. */
  discovery: "10m0s",
} as const;
export type KubeadmTimeouts = Record<keyof typeof TCG_TIMEOUTS, string>;

/**
 * Preflight checks that cannot pass on a lab VM host, each with why; every other check runs and fails
 * loudly. Not listed because they only warn here: Service-Kubelet (no systemd: kubeadm finds no init
 * system and warns), Swap (the guests have no swap; a warning at most). Not listed because they hold:
 * FileContent--proc-sys-net-ipv4-ip_forward (the lab sets ip_forward=1 in the host's namespace before
 * kubeadm runs; kubeadm v1.34 no longer checks bridge-nf-call-iptables), Mem (the master VM gets 3 GiB;
 * kubeadm wants 1700 MB), NumCPU (the master VM gets 2 vCPUs, kubeadm's minimum), ExternalEtcdVersion (the
 * cluster's etcd is 3.6.16 from scripts/setup --kubernetes; kubeadm v1.34 wants 3.5.24 or later), and the
 * binaries kubeadm needs in PATH (this machine's, which the guests see).
 */
export const IGNORED_PREFLIGHT = {
  /**
   * The guest boots Debian's kernel from the lab's tools folder over this machine's root filesystem:
   * /boot/config-<release> of that kernel is not in the guest's /boot, and Debian builds no
   * /proc/config.gz, so the kernel-config validator cannot read the config it checks.
   */
  SystemVerification: "the guest's kernel config is not where the validator looks (no /boot/config-*)",
} as const;
export type IgnoredPreflight = keyof typeof IGNORED_PREFLIGHT;
/** `kubeadm init` runs every check; join has no control-plane or etcd checks. */
export const INIT_IGNORED: readonly IgnoredPreflight[] = ["SystemVerification"];
export const JOIN_IGNORED: readonly IgnoredPreflight[] = ["SystemVerification"];

/** A node taint as kubeadm's nodeRegistration takes it. */
export interface Taint {
  key: string;
  value?: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/**
 * kubeadm's own control-plane taint, written out: the stack's pods stay off the master (they go to the
 * workers by nodeSelector), while calico-node's DaemonSet tolerates every NoSchedule taint and runs there.
 */
export const CONTROL_PLANE_TAINT: Taint = {
  key: "node-role.kubernetes.io/control-plane",
  effect: "NoSchedule",
};

/** What kubelet on one node registers with. */
export interface NodeInputs {
  /** The Kubernetes node name: the lab host's name. */
  nodeName: string;
  /** The host's underlay address: the API server's advertise address on the master, kubelet's node-ip everywhere. */
  address: string;
  /**
   * The host's labels, set by kubelet at registration (`node-labels` in kubeletExtraArgs), so they are on
   * the node before any pod is scheduled and a nodeSelector cannot race a `kubectl label`.
   */
  labels: Readonly<Record<string, string>>;
  /** Defaults: the control-plane taint on the master, none on workers. */
  taints?: readonly Taint[];
  timeouts?: KubeadmTimeouts;
}

export interface InitInputs extends NodeInputs {
  clusterName: string;
  kubernetesVersion: string;
  /** The lab's pod CIDR (kubeadm's --pod-network-cidr; Calico's default pool). */
  podCidr: string;
  serviceCidr: string;
  /** The lab's etcd, plain http: kubeadm's external etcd. */
  etcdEndpoints: readonly string[];
  /** From bootstrapToken(); written into the master's InitConfiguration and every worker's join. */
  bootstrapToken: string;
}

export interface JoinInputs extends NodeInputs {
  /** The master's `address:6443`. */
  apiServerEndpoint: string;
  bootstrapToken: string;
  /**
   * The cluster CA pinned by its hash (caCertHash() of the master's /etc/kubernetes/pki/ca.crt), or, only
   * where the hash cannot be had, `unsafeSkipCAVerification` (any API server at the endpoint is trusted).
   */
  ca: { certHash: string } | { unsafeSkipCAVerification: true };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const CIDR = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/;
const ETCD_ENDPOINT = /^http:\/\/(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/;
const HOST_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/;
const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;

const port = (p: string) => Number(p) >= 1 && Number(p) <= 65535;

function cidrProblem(field: string, value: string, what: string, example: string, problems: Problem[]): void {
  const m = CIDR.exec(value);
  if (m && isIPv4(m[1]!) && Number(m[2]) <= 32) return;
  problems.push(problem(field, value, `${what} must be an IPv4 CIDR`, `write e.g. ${example}`));
}

function checkNode(n: NodeInputs, problems: Problem[]): void {
  if (!DNS_LABEL.test(n.nodeName))
    problems.push(
      problem(
        "nodeName",
        n.nodeName,
        "a node name must be a DNS label: lower-case letters, digits and -, at most 63 characters",
        "use the lab host's name (calico-lab:hosts[].name)",
      ),
    );
  if (!isIPv4(n.address))
    problems.push(problem("address", n.address, "not an IPv4 address", "use the host's underlay address"));
  for (const [k, v] of Object.entries(n.labels)) {
    const field = `labels[${JSON.stringify(k)}]`;
    const why = labelKeyProblem(k) ?? labelValueProblem(v);
    if (why) {
      problems.push(
        problem(field, v, `not a Kubernetes label: ${why}`, "fix the host's label in calico-lab:hosts"),
      );
      continue;
    }
    if (!kubeletMaySetLabel(k))
      problems.push(
        problem(
          field,
          v,
          KUBELET_LABEL_REFUSED,
          "use a key of your own (example.com/role), or label the node with kubectl after it joined",
        ),
      );
  }
  (n.taints ?? []).forEach((t, i) => {
    const field = `taints[${i}]`;
    const why = labelKeyProblem(t.key) ?? (t.value === undefined ? undefined : labelValueProblem(t.value));
    if (why)
      problems.push(
        problem(`${field}.key`, t.key, `not a taint key and value: ${why}`, "write e.g. dedicated=lab"),
      );
    if (!(TAINT_EFFECTS as readonly string[]).includes(t.effect))
      problems.push(
        problem(
          `${field}.effect`,
          t.effect,
          "not a taint effect",
          `write one of ${TAINT_EFFECTS.join(", ")}`,
        ),
      );
  });
}

function checkToken(token: string, problems: Problem[]): void {
  // The token is a secret: a problem names its shape, never its text.
  if (!BOOTSTRAP_TOKEN.test(token))
    problems.push({
      field: "bootstrapToken",
      value: "(not shown)",
      message: "a bootstrap token is 6 and 16 lower-case letters or digits joined by a dot",
      fix: "make one with bootstrapToken(randomBytes)",
    });
}

function refuse(subject: string, problems: Problem[]): void {
  if (problems.length > 0) throw new ProblemError(subject, problems, "list");
}

/** `nodeRegistration` of either configuration. */
function nodeRegistration(n: NodeInputs, taints: readonly Taint[], ignored: readonly IgnoredPreflight[]) {
  const labels = Object.entries(n.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  return {
    name: n.nodeName,
    criSocket: CRI_SOCKET,
    taints: taints.map((t) => ({ ...t })),
    kubeletExtraArgs: [
      { name: "node-ip", value: n.address },
      // cAdvisor reads every container's cgroup statistics each 10 s by default: on an emulated host that
      // was a large part of kubelet's CPU (kubelet at ~47% on the master). Nothing in the lab reads them.
      { name: "housekeeping-interval", value: "1m0s" },
      ...(labels ? [{ name: "node-labels", value: labels }] : []),
    ],
    ignorePreflightErrors: [...ignored],
    // There is no registry: every image is imported into containerd beforehand, so kubeadm pulls nothing.
    imagePullPolicy: "Never",
  };
}

function yamlDocs(comment: string, docs: readonly object[]): string {
  return `# ${comment}\n` + docs.map((d) => stringify(d, { lineWidth: 0 })).join("---\n");
}

/**
 * `kubeadm init --config`: InitConfiguration, ClusterConfiguration (external etcd, the lab's CIDRs) and the
 * cluster's KubeletConfiguration (uploaded to the kubelet-config ConfigMap, which every joining kubelet
 * reads). No KubeProxyConfiguration: the kube-proxy addon is skipped.
 */
/**
 * The control plane's static pods, patched for an emulated host (kubeadm's `patches` folder, strategic
 * merge): under TCG on a busy 2-core machine kube-controller-manager took 95 s and kube-apiserver 6 min to
 * answer their health checks, so kubeadm's startup and liveness probes (24 × 10 s; 8 × 10 s, 15 s timeouts)
 * killed them over and over (CrashLoopBackOff, the bootstrap signer never ran, joins waited forever).
 * Measured before changing anything; the probes stay, only their patience grows.
 */
export const PROBE_PATIENCE = { failureThreshold: 120, timeoutSeconds: 60, periodSeconds: 10 } as const;
export const CONTROL_PLANE_COMPONENTS = [
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
] as const;

/** The patch files for kubeadm's patches folder: name → content (JSON is YAML). */
export function controlPlanePatches(): Record<string, string> {
  return Object.fromEntries(
    CONTROL_PLANE_COMPONENTS.map((c) => [
      `${c}+strategic.json`,
      JSON.stringify(
        {
          spec: {
            containers: [
              { name: c, startupProbe: { ...PROBE_PATIENCE }, livenessProbe: { ...PROBE_PATIENCE } },
            ],
          },
        },
        null,
        2,
      ) + "\n",
    ]),
  );
}

/**
 * The controllers kube-controller-manager runs (kubeadm's default is every on-by-default controller plus
 * the bootstrap signer and token cleaner). Under TCG each controller's informers and resyncs cost the
 * starved master CPU, so only what a kubeadm lab uses runs: joins (bootstrap signer, CSR approval and
 * signing), service accounts and their tokens and CA, DaemonSets, Deployments and ReplicaSets (a user's own
 * `kubectl create deployment`), garbage collection (`kubectl delete -f calico.yaml` removes the DaemonSet's
 * pods through it), namespaces, node lifecycle and IPAM, endpoints. Left out: autoscaling, jobs and cron
 * jobs, quotas, storage and volumes, disruption budgets, StatefulSets, cloud and load balancers.
 */
export const CONTROLLERS = [
  "bootstrap-signer-controller",
  "certificatesigningrequest-approving-controller",
  "certificatesigningrequest-cleaner-controller",
  "certificatesigningrequest-signing-controller",
  "clusterrole-aggregation-controller",
  "daemonset-controller",
  "deployment-controller",
  "endpoints-controller",
  "endpointslice-controller",
  "garbage-collector-controller",
  "namespace-controller",
  "node-ipam-controller",
  "node-lifecycle-controller",
  "pod-garbage-collector-controller",
  "replicaset-controller",
  "root-ca-certificate-publisher-controller",
  "service-cidr-controller",
  "serviceaccount-controller",
  "serviceaccount-token-controller",
  "taint-eviction-controller",
  "token-cleaner-controller",
  "ttl-controller",
] as const;

/**
 * kube-apiserver's flags for an emulated master: no priority-and-fairness (one client set, nothing to be
 * fair between; its config controller and seat accounting run on every request) and no profiling handlers.
 */
export const API_SERVER_ARGS = [
  { name: "enable-priority-and-fairness", value: "false" },
  { name: "profiling", value: "false" },
] as const;

export function initConfiguration(i: InitInputs & { patchesDir?: string }): string {
  const problems: Problem[] = [];
  if (!DNS_LABEL.test(i.clusterName))
    problems.push(
      problem("clusterName", i.clusterName, "a cluster name must be a DNS label", "use the stack's name"),
    );
  if (!KUBERNETES_VERSION_PATTERN.test(i.kubernetesVersion))
    problems.push(
      problem(
        "kubernetesVersion",
        i.kubernetesVersion,
        "not a Kubernetes release (vMAJOR.MINOR.PATCH)",
        "use KUBERNETES_VERSION (src/kubernetes/version.ts)",
      ),
    );
  checkNode(i, problems);
  cidrProblem("podCidr", i.podCidr, "the pod CIDR", "10.244.0.0/16", problems);
  cidrProblem("serviceCidr", i.serviceCidr, "the service CIDR", "10.96.0.0/12", problems);
  if (i.etcdEndpoints.length === 0)
    problems.push(
      problem("etcdEndpoints", [], "no etcd endpoint", "pass the lab's etcd, http://<master>:2379"),
    );
  i.etcdEndpoints.forEach((e, n) => {
    const m = ETCD_ENDPOINT.exec(e);
    if (!m || !isIPv4(m[1]!) || !port(m[2]!))
      problems.push(
        problem(
          `etcdEndpoints[${n}]`,
          e,
          "the lab's etcd is plain http at an address: http://a.b.c.d:port",
          "pass labEtcdEndpoint(config) (src/config/etcd.ts)",
        ),
      );
  });
  checkToken(i.bootstrapToken, problems);
  refuse(`kubeadm init configuration for ${JSON.stringify(i.nodeName)}`, problems);

  const init = {
    apiVersion: KUBEADM_API,
    kind: "InitConfiguration",
    bootstrapTokens: [
      {
        token: i.bootstrapToken,
        description: "calico-lab: the workers' kubeadm join",
        ttl: "24h0m0s",
        groups: ["system:bootstrappers:kubeadm:default-node-token"],
        usages: ["signing", "authentication"],
      },
    ],
    localAPIEndpoint: { advertiseAddress: i.address, bindPort: API_SERVER_PORT },
    nodeRegistration: nodeRegistration(i, i.taints ?? [CONTROL_PLANE_TAINT], INIT_IGNORED),
    skipPhases: [...SKIPPED_PHASES],
    timeouts: { ...(i.timeouts ?? TCG_TIMEOUTS) },
    ...(i.patchesDir ? { patches: { directory: i.patchesDir } } : {}),
  };
  const cluster = {
    apiVersion: KUBEADM_API,
    kind: "ClusterConfiguration",
    clusterName: i.clusterName,
    kubernetesVersion: i.kubernetesVersion,
    controlPlaneEndpoint: `${i.address}:${API_SERVER_PORT}`,
    // The images the lab builds carry these names (registry.k8s.io/<component>:<version>).
    imageRepository: "registry.k8s.io",
    networking: { podSubnet: i.podCidr, serviceSubnet: i.serviceCidr, dnsDomain: "cluster.local" },
    etcd: { external: { endpoints: [...i.etcdEndpoints] } },
    // ECDSA P-256 keys and certificates instead of RSA-2048: every TLS handshake signs with the server's
    // key, and an ECDSA signature costs a small fraction of an RSA-2048 one (not measured separately here;
    // the 3-VM run with all of these changes: init 114 s instead of ~10 min).
    encryptionAlgorithm: "ECDSA-P256",
    apiServer: { extraArgs: [...API_SERVER_ARGS] },
    // One control plane: nothing to elect, and a lease renewal that misses its deadline on a starved host
    // makes the component exit.
    controllerManager: {
      extraArgs: [
        { name: "leader-elect", value: "false" },
        { name: "controllers", value: CONTROLLERS.join(",") },
        // A kubelet on a starved VM renews its lease late; the default 50 s grace marks it NotReady and
        // taints it, then the pods on it are evicted.
        { name: "node-monitor-grace-period", value: "3m0s" },
        { name: "profiling", value: "false" },
      ],
    },
    scheduler: {
      extraArgs: [
        { name: "leader-elect", value: "false" },
        { name: "profiling", value: "false" },
      ],
    },
  };
  const kubelet = {
    apiVersion: KUBELET_API,
    kind: "KubeletConfiguration",
    // No systemd to delegate cgroups to: kubelet and containerd manage cgroup v2 themselves.
    cgroupDriver: "cgroupfs",
    failSwapOn: false,
    // CRI calls (sandbox create, image status) take tens of seconds on an emulated host; default 2m.
    runtimeRequestTimeout: "10m0s",
    // No volumes worth measuring (no PersistentVolumes); each pass walks every pod's volumes with du.
    volumeStatsAggPeriod: "0s",
  };
  return yamlDocs(`kubeadm init on ${i.nodeName}, written by calico-lab (src/kubernetes/kubeadm-config.ts)`, [
    init,
    cluster,
    kubelet,
  ]);
}

/**
 * `kubeadm join --config`: a JoinConfiguration only. The kubelet's configuration comes from the cluster
 * (the kubelet-config ConfigMap init uploaded), so a worker's kubelet runs exactly as the master's.
 */
export function joinConfiguration(j: JoinInputs): string {
  const problems: Problem[] = [];
  checkNode(j, problems);
  const m = HOST_PORT.exec(j.apiServerEndpoint);
  if (!m || !isIPv4(m[1]!) || !port(m[2]!))
    problems.push(
      problem(
        "apiServerEndpoint",
        j.apiServerEndpoint,
        "the API server endpoint is address:port",
        `write the master's underlay address and ${API_SERVER_PORT}, e.g. 192.168.19.165:${API_SERVER_PORT}`,
      ),
    );
  checkToken(j.bootstrapToken, problems);
  if ("certHash" in j.ca && !CA_CERT_HASH.test(j.ca.certHash))
    problems.push(
      problem(
        "ca.certHash",
        j.ca.certHash,
        "not a CA cert hash (sha256: and 64 lower-case hex digits)",
        "pass caCertHash(<the master's /etc/kubernetes/pki/ca.crt>)",
      ),
    );
  refuse(`kubeadm join configuration for ${JSON.stringify(j.nodeName)}`, problems);

  const join = {
    apiVersion: KUBEADM_API,
    kind: "JoinConfiguration",
    discovery: {
      bootstrapToken: {
        apiServerEndpoint: j.apiServerEndpoint,
        token: j.bootstrapToken,
        ...("certHash" in j.ca ? { caCertHashes: [j.ca.certHash] } : { unsafeSkipCAVerification: true }),
      },
    },
    nodeRegistration: nodeRegistration(j, j.taints ?? [], JOIN_IGNORED),
    timeouts: { ...(j.timeouts ?? TCG_TIMEOUTS) },
  };
  return yamlDocs(`kubeadm join on ${j.nodeName}, written by calico-lab (src/kubernetes/kubeadm-config.ts)`, [
    join,
  ]);
}
