#!/usr/bin/env bash
# Builds the test control plane from Go modules (nothing but the module proxy is reached):
# kube-apiserver, kube-controller-manager, kube-scheduler (k8s.io/kubernetes), etcd and kwok.
# The binaries land in $ASSETS_DIR (default bin/k8s/<k8s version>) and are reused when present.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ASSETS_DIR="${ASSETS_DIR:-$ROOT/bin/k8s/$K8S_VERSION}"
STAGING_VERSION="v0.${K8S_VERSION#1.}"

need=()
for b in kube-apiserver kube-controller-manager kube-scheduler etcd kwok; do
  [ -x "$ASSETS_DIR/$b" ] || need+=("$b")
done
if [ ${#need[@]} -eq 0 ]; then
  echo "envtest assets present in $ASSETS_DIR"
  exit 0
fi
# A machine-wide cache outside the checkout lets a fresh clone on the same machine skip the build.
CACHE_DIR="${KUBERNAUT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubernaut}/k8s/$K8S_VERSION"
if [ -x "$CACHE_DIR/kube-apiserver" ] && [ -x "$CACHE_DIR/etcd" ] && [ -x "$CACHE_DIR/kwok" ]; then
  mkdir -p "$ASSETS_DIR"
  cp -a "$CACHE_DIR"/. "$ASSETS_DIR"/
  echo "envtest assets copied from $CACHE_DIR"
  exit 0
fi
# Progress: each step says what it builds, "[N/M]", and how long it and the whole build took;
# the compile of Kubernetes (about ten minutes on two cores) reports its package count every 15s.
START=$SECONDS
step=0
steps=0
for b in "${need[@]}"; do
  case "$b" in etcd | kwok) steps=$((steps + 1)) ;; *) kube_steps=2 ;; esac
done
steps=$((steps + ${kube_steps:-0}))
# shellcheck source=hack/build-progress.sh
source "$ROOT/hack/build-progress.sh"
# shellcheck source=hack/k8s-module.sh
source "$ROOT/hack/k8s-module.sh"

echo "building ${need[*]} into $ASSETS_DIR: $steps steps, about 15 minutes on two cores the first time"
mkdir -p "$ASSETS_DIR"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GOWORK=off CGO_ENABLED=0 GOFLAGS=-mod=mod

build_kube() {
  local d="$work/kube"
  kubernetes_module "$d" kubernaut.io/envtest-assets
  cat >"$d/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
  begin "downloading the modules of k8s.io/kubernetes v$K8S_VERSION"
  (cd "$d" && go mod tidy -e >/dev/null 2>&1) || true
  finish
  local cmds=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler)
  local total
  total="$(cd "$d" && go list -tags tools -deps "${cmds[@]}" 2>/dev/null | wc -l | tr -d ' ')"
  begin "compiling kube-apiserver, kube-controller-manager and kube-scheduler ($total packages)"
  (cd "$d" && go build -v -tags tools -o "$ASSETS_DIR/" "${cmds[@]}" 2>&1) | progress "kubernetes" "$total"
  finish
}

build_etcd() {
  local d="$work/etcd"
  mkdir -p "$d"
  begin "building etcd $ETCD_VERSION"
  (cd "$d" && go mod init kubernaut.io/etcd-asset >/dev/null 2>&1 &&
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1 &&
    go build -v -o "$ASSETS_DIR/etcd" go.etcd.io/etcd/server/v3 2>&1) | progress "etcd" "several hundred"
  finish
}

build_kwok() {
  begin "building kwok $KWOK_VERSION"
  GOBIN="$ASSETS_DIR" go install -v "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" 2>&1 | progress "kwok" "several hundred"
  finish
  # kwok's stage manifests (node init, heartbeat, fast pod lifecycle) for the local cluster.
  local dir
  dir="$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')"
  : >"$ASSETS_DIR/kwok-stages.yaml"
  for s in node/fast node/heartbeat pod/fast; do
    for f in "$dir"/kustomize/stage/$s/*.yaml; do
      case "$f" in */kustomization.yaml) continue ;; esac
      { echo "---"; cat "$f"; } >>"$ASSETS_DIR/kwok-stages.yaml"
    done
  done
}

for b in "${need[@]}"; do
  case "$b" in
    kube-apiserver|kube-controller-manager|kube-scheduler) kube=1 ;;
    etcd) build_etcd ;;
    kwok) build_kwok ;;
  esac
done
[ -n "${kube:-}" ] && build_kube
if mkdir -p "$CACHE_DIR" 2>/dev/null; then cp -a "$ASSETS_DIR"/. "$CACHE_DIR"/ || true; fi
echo "envtest assets ready in $ASSETS_DIR after $(elapsed "$START")"
ls -la "$ASSETS_DIR"
