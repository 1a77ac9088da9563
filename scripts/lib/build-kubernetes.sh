#!/usr/bin/env bash
# Builds Kubernetes' binaries (and crictl) from the Go module proxy into .tools/k8s/bin, idempotently.
# k8s.io/kubernetes replaces each k8s.io/* staging module with ./staging/src/…, which its module zip does not
# hold: a wrapper module requires it and replaces each staging module with its published k8s.io/<name>
# v0.<minor>.<patch> instead. The version is stamped as the Kubernetes build does (kubeadm derives image tags
# and version checks from it). etcd, kubeadm's external etcd (kube-apiserver v1.34 needs 3.5 or later; Debian
# has 3.4), is built the same way from go.etcd.io/etcd/server/v3.
# Usage: build-kubernetes.sh [--check] <root> <kubernetes version> <crictl version> <etcd version>
#   --check: exit 0 when everything is built at these versions, 1 otherwise (builds nothing).
set -euo pipefail
check=false
if [ "${1:-}" = --check ]; then check=true; shift; fi
root=$1 version=$2 crictl=$3 etcd=$4
set -- kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler
out="$root/.tools/k8s/bin" src="$root/.tools/src/kubernetes" log="$root/.tools/kubernetes.build.log"
stamp="$out/.version" want="kubernetes@$version crictl@$crictl $*"
estamp="$out/.etcd-version" ewant="etcd@$etcd"
k8s_built() {
  [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] || return 1
  for b in "$@" crictl; do [ -x "$out/$b" ] || return 1; done
}
etcd_built() { [ "$(cat "$estamp" 2>/dev/null)" = "$ewant" ] && [ -x "$out/etcd" ]; }
build_etcd() { # a wrapper module with a main calling etcdmain, as etcd's own main.go does
  local esrc="$root/.tools/src/etcd"
  command -v go >/dev/null || { echo "Go is needed to build etcd $etcd from the Go module proxy" >&2; exit 1; }
  mkdir -p "$out" && rm -rf "$esrc" && mkdir -p "$esrc"
  printf 'module calico-lab/tools/etcd\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$etcd" > "$esrc/go.mod"
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' > "$esrc/main.go"
  (cd "$esrc" && GOFLAGS=-mod=mod go mod tidy >>"$log" 2>&1 \
    && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/etcd" . >>"$log" 2>&1) \
    || { echo "building etcd $etcd failed; see $log" >&2; exit 1; }
  echo "$ewant" > "$estamp"
}
if k8s_built "$@" && etcd_built; then exit 0; fi
$check && exit 1
if k8s_built "$@"; then build_etcd; exit 0; fi
command -v go >/dev/null || { echo "Go is needed to build Kubernetes $version from the Go module proxy" >&2; exit 1; }
minor=${version#v1.}; staging=v0.$minor
mkdir -p "$out" && rm -rf "$src" && mkdir -p "$src" && : > "$log"
gomod=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^\s*"GoMod": "\(.*\)",$/\1/p')
[ -f "$gomod" ] || { echo "k8s.io/kubernetes@$version: no go.mod from the module proxy" >&2; exit 1; }
mapfile -t mods < <(sed -n 's#^\s*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$gomod")
[ ${#mods[@]} -gt 20 ] || { echo "k8s.io/kubernetes@$version: staging replacements not found in $gomod" >&2; exit 1; }
{
  printf 'module calico-lab/tools/kubernetes\n\ngo 1.24.0\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$version"
  for m in "${mods[@]}"; do printf '\t%s => %s %s\n' "$m" "$m" "$staging"; done
  printf ')\n'
} > "$src/go.mod"
pkgs=()
for b in "$@"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
{
  printf '//go:build tools\n\npackage tools\n\nimport (\n'
  for b in "$@"; do
    case $b in
      kubectl) printf '\t_ "k8s.io/kubectl/pkg/cmd"\n' ;;
      *) printf '\t_ "k8s.io/kubernetes/cmd/%s/app"\n' "$b" ;;
    esac
  done
  printf '\t_ "sigs.k8s.io/cri-tools/cmd/crictl"\n)\n'
} > "$src/tools.go"
printf 'require sigs.k8s.io/cri-tools %s\n' "$crictl" >> "$src/go.mod"
cd "$src"
GOFLAGS=-mod=mod go mod tidy >>"$log" 2>&1 || { echo "go mod tidy failed for Kubernetes $version; see $log" >&2; exit 1; }
IFS=. read -r major mnr _ <<<"${version#v}"
date=$(date -u -d @0 +%Y-%m-%dT%H:%M:%SZ)
ld="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld+=" -X $p.gitVersion=$version -X $p.gitMajor=$major -X $p.gitMinor=$mnr -X $p.gitTreeState=clean -X $p.buildDate=$date"
  ld+=" -X $p.gitCommit=0000000000000000000000000000000000000000"
done
CGO_ENABLED=0 go build -trimpath -o "$out/" -ldflags "$ld" "${pkgs[@]}" >>"$log" 2>&1 \
  || { echo "building Kubernetes $version failed; see $log" >&2; exit 1; }
CGO_ENABLED=0 go build -trimpath -o "$out/crictl" -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$crictl" \
  sigs.k8s.io/cri-tools/cmd/crictl >>"$log" 2>&1 || { echo "building crictl $crictl failed; see $log" >&2; exit 1; }
echo "$want" > "$stamp"
etcd_built || build_etcd
