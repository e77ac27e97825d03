#!/usr/bin/env bash
# Builds the node's Kubernetes parts from Go modules, as hack/envtest-assets.sh builds the control
# plane: kubelet and kube-proxy (k8s.io/kubernetes; kubectl too when the machine has none), and
# CoreDNS (github.com/coredns/coredns). Binaries land in $NODE_BIN (default
# bin/k8s/<k8s version>/node) and are reused when present. About 5 minutes on two cores with a
# warm module cache (CoreDNS is most of it), 30 s for kubelet and kube-proxy alone.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.2}"
COREDNS_VERSION="${COREDNS_VERSION:-v1.13.1}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
NODE_BIN="${NODE_BIN:-$ROOT/bin/k8s/$K8S_VERSION/node}"
STAGING_VERSION="v0.${K8S_VERSION#1.}"

kube_cmds=(kubelet kube-proxy)
command -v kubectl >/dev/null || kube_cmds+=(kubectl)
need_kube=
for b in "${kube_cmds[@]}"; do [ -x "$NODE_BIN/$b" ] || need_kube=1; done
need_dns=
[ -x "$NODE_BIN/coredns" ] || need_dns=1
if [ -z "$need_kube$need_dns" ]; then
  echo "node binaries present in $NODE_BIN"
  exit 0
fi
mkdir -p "$NODE_BIN"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GOWORK=off CGO_ENABLED=0 GOFLAGS=-mod=mod

if [ -n "$need_kube" ]; then
  echo "building ${kube_cmds[*]} v$K8S_VERSION into $NODE_BIN"
  d="$work/kube"
  # shellcheck source=hack/k8s-module.sh
  source "$ROOT/hack/k8s-module.sh"
  kubernetes_module "$d" kubernaut.io/node-assets
  cat >"$d/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
GO
  (cd "$d" && go mod tidy -e >/dev/null 2>&1) || true
  # The version the node reports (kubectl get nodes), instead of v0.0.0-master.
  local_ldflags="-X k8s.io/component-base/version.gitVersion=v$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1"
  local_ldflags+=" -X k8s.io/component-base/version.gitMinor=$(cut -d. -f2 <<<"$K8S_VERSION")"
  (cd "$d" && go build -tags tools -ldflags "$local_ldflags" -o "$NODE_BIN/" "${kube_cmds[@]/#/k8s.io/kubernetes/cmd/}")
fi

if [ -n "$need_dns" ]; then
  echo "building coredns $COREDNS_VERSION into $NODE_BIN"
  d="$work/coredns"
  mkdir -p "$d"
  (cd "$d" && go mod init kubernaut.io/coredns-asset >/dev/null 2>&1 &&
    go get "github.com/coredns/coredns@$COREDNS_VERSION" >/dev/null 2>&1 &&
    go build -o "$NODE_BIN/coredns" github.com/coredns/coredns)
fi
ls -la "$NODE_BIN"
