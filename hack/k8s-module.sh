# shellcheck shell=bash
# Sourced by hack/envtest-assets.sh and hack/node/build.sh, which build Kubernetes components from
# the k8s.io/kubernetes module.

# kubernetes_module DIR NAME writes DIR/go.mod for module NAME requiring k8s.io/kubernetes
# v$K8S_VERSION, with its staging modules (which k8s.io/kubernetes replaces by ./staging paths)
# pinned to their published v$STAGING_VERSION.
kubernetes_module() {
  local dir=$1 name=$2 gomod
  mkdir -p "$dir"
  gomod="$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')"
  {
    echo "module $name"
    echo
    echo "go 1.26"
    echo
    echo "require k8s.io/kubernetes v$K8S_VERSION"
    echo
    echo "replace ("
    grep -E '^\s+k8s.io/[a-z0-9-]+ => ./staging/src/' "$gomod" | awk -v v="$STAGING_VERSION" '{print "\t" $1 " => " $1 " " v}'
    echo ")"
  } >"$dir/go.mod"
}
