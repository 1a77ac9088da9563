// calico-node's liveness and readiness probes in our image. Upstream's manifests call
// `calico-node -felix-live` / `-felix-ready -bird-ready`; the image answers them with a shell script that
// reads what our agent already writes (its status.json, BIRD's control socket), because a probe that started
// node would cost seconds of CPU every few seconds on an emulated host. The DaemonSet gives the container
// CALICO_LAB_RUN_DIR and CALICO_LAB_SOCKET_DIR (src/kubernetes/daemonset.ts). Pure: text.

export const PROBE_PATH = "/usr/local/bin/calico-node-probe";

export const PROBE_SCRIPT = `#!/bin/sh
# calico-lab: calico-node's probes (src/kubernetes/probe.ts). Exit 0 when every named part is healthy.
# A status.json counts only when this pod's agent wrote it: it carries the pod's UID (CALICO_LAB_AGENT_LAUNCH)
# as its launch token. A deleted pod's agent leaves its "ready" status and BIRD's socket file behind.
status="$CALICO_LAB_RUN_DIR/status.json"
socket="$CALICO_LAB_SOCKET_DIR/bird.ctl"
[ $# -gt 0 ] || { echo "usage: calico-node-probe -felix-live|-felix-ready|-bird-live|-bird-ready ..." >&2; exit 2; }
ours() {
  [ -z "\${CALICO_LAB_AGENT_LAUNCH:-}" ] && return 0
  grep -qF '"launch": "'"$CALICO_LAB_AGENT_LAUNCH"'"' "$status" 2>/dev/null && return 0
  echo "agent not started yet: $status is not this pod's agent's" >&2; exit 1
}
for flag in "$@"; do
  case "$flag" in
    -felix-live|--felix-live)
      ours
      grep -qE '"phase": "(starting|ready|unready)"' "$status" 2>/dev/null || { echo "agent not live: $status" >&2; exit 1; } ;;
    -felix-ready|--felix-ready)
      ours
      grep -q '"phase": "ready"' "$status" 2>/dev/null || { echo "agent not ready: $status" >&2; exit 1; } ;;
    -bird-live|--bird-live|-bird-ready|--bird-ready)
      ours
      grep -q '"birdPid":' "$status" 2>/dev/null || { echo "the agent runs no BIRD: $status" >&2; exit 1; }
      [ -S "$socket" ] || { echo "BIRD has no control socket at $socket" >&2; exit 1; } ;;
    *) echo "calico-node-probe: unknown flag $flag" >&2; exit 2 ;;
  esac
done
`;
