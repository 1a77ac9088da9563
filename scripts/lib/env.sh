# Sourced by the project's scripts (and by users: `. scripts/env`): the offline Pulumi environment.
# Local file backend inside the project, update check and plugin downloads off, tools from .tools/bin.
_calico_lab_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CALICO_LAB_ROOT="$_calico_lab_root"
case ":$PATH:" in
  *":$_calico_lab_root/.tools/bin:"*) ;;
  *) export PATH="$_calico_lab_root/.tools/bin:$_calico_lab_root/node_modules/.bin:$PATH" ;;
esac
export PULUMI_HOME="${PULUMI_HOME:-$_calico_lab_root/.lab/pulumi-home}"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$_calico_lab_root/.lab/state}"
# Lab stacks hold no real secrets: a documented default passphrase (override it by setting your own).
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  export PULUMI_CONFIG_PASSPHRASE="calico-lab"
fi
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
mkdir -p "$_calico_lab_root/.lab/state" "$PULUMI_HOME"
unset _calico_lab_root
