#!/usr/bin/env bash
# Builds the real alerting stack of the e2e suite from Go modules (nothing but the module proxy is
# reached): kube-state-metrics, Prometheus and Alertmanager, each at a pinned version, each from a
# throwaway module in a temporary folder. A binary lands in $ALERTING_DIR/<tool>-<version>/<tool>
# (default bin/alerting/...) and is copied to and from a machine-wide cache
# (~/.cache/kubernaut/alerting/<tool>-<version>/) so that a fresh clone on the same machine skips
# the build. Prints progress lines; docs/e2e.md has the measured first-build times.
#
#   KSM_VERSION            k8s.io/kube-state-metrics/v2 version (go list -m -versions lists them)
#   PROMETHEUS_VERSION     github.com/prometheus/prometheus version (its Go module tags: v0.<minor>.<patch>)
#   ALERTMANAGER_VERSION   github.com/prometheus/alertmanager version
#   ALERTING_DIR           where the binaries go (default bin/alerting)
#   KUBERNAUT_CACHE        the machine-wide cache root (default ${XDG_CACHE_HOME:-~/.cache}/kubernaut)
set -euo pipefail

KSM_VERSION="${KSM_VERSION:-v2.20.0}"
PROMETHEUS_VERSION="${PROMETHEUS_VERSION:-v0.316.0}"
ALERTMANAGER_VERSION="${ALERTMANAGER_VERSION:-v0.35.0}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ALERTING_DIR="${ALERTING_DIR:-$ROOT/bin/alerting}"
CACHE_ROOT="${KUBERNAUT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubernaut}/alerting"

declare -A version=(
  [kube-state-metrics]="$KSM_VERSION"
  [prometheus]="$PROMETHEUS_VERSION"
  [alertmanager]="$ALERTMANAGER_VERSION"
)
tools=(kube-state-metrics alertmanager prometheus)

need=()
for t in "${tools[@]}"; do
  dir="$ALERTING_DIR/$t-${version[$t]}"
  cache="$CACHE_ROOT/$t-${version[$t]}"
  if [ -x "$dir/$t" ]; then
    continue
  fi
  if [ -x "$cache/$t" ]; then
    mkdir -p "$dir"
    cp -a "$cache/$t" "$dir/$t"
    echo "$t ${version[$t]} copied from $cache"
    continue
  fi
  need+=("$t")
done
if [ ${#need[@]} -eq 0 ]; then
  echo "alerting assets present in $ALERTING_DIR (kube-state-metrics $KSM_VERSION, prometheus $PROMETHEUS_VERSION, alertmanager $ALERTMANAGER_VERSION)"
  exit 0
fi

START=$SECONDS
step=0
steps=${#need[@]}
# shellcheck source=hack/build-progress.sh
source "$ROOT/hack/build-progress.sh"

echo "building ${need[*]} into $ALERTING_DIR: $steps steps, several minutes on two cores the first time"
work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
export GOWORK=off CGO_ENABLED=0 GOFLAGS=-mod=mod

# module_dir prints where the module proxy's copy of a module version was extracted.
module_dir() { go mod download -json "$1" | sed -n 's/.*"Dir": "\(.*\)",/\1/p'; }

# build <tool> <module> <package> <tags> [replace-dir]: a throwaway module that requires <module>
# at its pinned version, tidied, then `go build` of <package> with <tags>.
build() {
  local tool="$1" module="$2" pkg="$3" tags="$4" replace="${5:-}"
  local v="${version[$tool]}" d="$work/$tool" out="$ALERTING_DIR/$tool-${version[$tool]}"
  mkdir -p "$d" "$out"
  {
    echo "module kubernaut.io/alerting-asset/$tool"
    echo
    echo "go 1.26"
    echo
    echo "require $module $v"
    if [ -n "$replace" ]; then
      echo
      echo "replace $module => $replace"
    fi
  } >"$d/go.mod"
  cat >"$d/tools.go" <<GO
//go:build tools

package tools

import _ "$pkg"
GO
  (cd "$d" && go mod tidy -e >/dev/null 2>&1) || true
  local total alltags="tools${tags:+,$tags}"
  total="$(cd "$d" && go list -tags "$alltags" -deps "$pkg" 2>/dev/null | wc -l | tr -d ' ')"
  echo "      $tool: $total packages (build tags: ${tags:-none})"
  # The version the binary reports (--version, /api/v1/status/buildinfo) is the release's, from
  # the module's VERSION file where it has one (Prometheus's module v0.316.0 is release 3.16.0).
  local release="${v#v}" dir
  dir="$(cd "$d" && go list -m -f '{{.Dir}}' "$module" 2>/dev/null || true)"
  if [ -n "$dir" ] && [ -f "$dir/VERSION" ]; then release="$(tr -d '[:space:]' <"$dir/VERSION")"; fi
  local ldflags="-s -w -X github.com/prometheus/common/version.Version=$release -X github.com/prometheus/common/version.Revision=$v -X github.com/prometheus/common/version.Branch=$v"
  (cd "$d" && go build -v -trimpath -tags "$alltags" -ldflags "$ldflags" -o "$out/$tool" "$pkg" 2>&1) | progress "$tool" "$total"
  [ -x "$out/$tool" ] || { echo "building $tool failed" >&2; exit 1; }
  local cache="$CACHE_ROOT/$tool-$v"
  if mkdir -p "$cache" 2>/dev/null; then cp -a "$out/$tool" "$cache/$tool" || true; fi
}

for t in "${need[@]}"; do
  case "$t" in
    kube-state-metrics)
      begin "building kube-state-metrics $KSM_VERSION (k8s.io/kube-state-metrics/v2)"
      build kube-state-metrics k8s.io/kube-state-metrics/v2 k8s.io/kube-state-metrics/v2 ""
      finish
      ;;
    alertmanager)
      begin "building alertmanager $ALERTMANAGER_VERSION (github.com/prometheus/alertmanager/cmd/alertmanager)"
      # The module ships its web UI's sources but not the compiled bundle that ui/web.go embeds
      # (ui/app/dist, made by npm in upstream's release build). A writable copy of the module with a
      # one-page placeholder in its place compiles; the API, which is all the suite uses, is untouched.
      src="$work/alertmanager-src"
      cp -r "$(module_dir "github.com/prometheus/alertmanager@$ALERTMANAGER_VERSION")" "$src"
      chmod -R u+w "$src"
      for ui in elm mantine; do
        mkdir -p "$src/ui/app/dist/$ui"
        echo '<!doctype html><title>Alertmanager</title><p>Web UI not built (kubernaut e2e build); the API is at /api/v2/.</p>' >"$src/ui/app/dist/$ui/index.html"
      done
      build alertmanager github.com/prometheus/alertmanager github.com/prometheus/alertmanager/cmd/alertmanager "" "$src"
      finish
      ;;
    prometheus)
      begin "building prometheus $PROMETHEUS_VERSION (github.com/prometheus/prometheus/cmd/prometheus, static and file targets only)"
      # remove_all_sd leaves only the file and HTTP service discoveries (the suite uses static_configs),
      # which drops the cloud SDKs and roughly halves the compile. Without the builtinassets tag the web
      # UI is served from disk (absent here); the HTTP API works.
      build prometheus github.com/prometheus/prometheus github.com/prometheus/prometheus/cmd/prometheus "remove_all_sd"
      finish
      ;;
  esac
done
echo "alerting assets ready in $ALERTING_DIR after $(elapsed "$START")"
for t in "${tools[@]}"; do ls -la "$ALERTING_DIR/$t-${version[$t]}/$t"; done
