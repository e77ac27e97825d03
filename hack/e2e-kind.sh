#!/usr/bin/env bash
# make e2e-kind / e2e-kind-down: the e2e suite (test/e2e) against Kubernaut deployed on a kind
# cluster from deploy/overlays/kind.
#
#   hack/e2e-kind.sh up     create the cluster, load the images (the eight services' and the e2e
#                           workload's), apply the overlay, wait for Ready
#   hack/e2e-kind.sh test   (after up) run go test ./test/e2e/ against it
#   hack/e2e-kind.sh all    up + test (make e2e-kind)
#   hack/e2e-kind.sh down   delete the cluster (make e2e-kind-down)
#
# Needs a Docker daemon that can run privileged containers (kind's nodes are privileged
# containers) and a registry for the kindest/node and postgres:15 images. Where that is missing it
# says so and exits 1: it never reports success without having run the suite.
#
# Environment: KIND (kind binary), KIND_CLUSTER (kubernaut-e2e), E2E_KUBECONFIG
# (bin/e2e-kind.kubeconfig), IMAGES_DIR (bin/images/dev), KIND_NODE_IMAGE (kind's default when
# empty), E2E_TIMEOUT (30m), GO_TEST_FLAGS.
# The suite gets, as environment variables (besides KUBERNAUT_E2E=1, which enables it):
#   KUBERNAUT_E2E_KUBECONFIG     kubeconfig of the kind cluster (admin)
#   KUBERNAUT_E2E_GATEWAY_URL      http://127.0.0.1:30080, the gateway's NodePort (overlays/kind/e2e-access.yaml)
#   KUBERNAUT_E2E_DATASTORAGE_URL  http://127.0.0.1:30081, datastorage's NodePort
#   KUBERNAUT_E2E_GATEWAY_TOKEN    a token of ServiceAccount kubernaut-system/kubernaut-e2e for both
#   KUBERNAUT_E2E_NAMESPACE      kubernaut-system (where RemediationRequests live)
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT=$(pwd)
KIND=${KIND:-kind}
KIND_CLUSTER=${KIND_CLUSTER:-kubernaut-e2e}
E2E_KUBECONFIG=${E2E_KUBECONFIG:-$ROOT/bin/e2e-kind.kubeconfig}
IMAGES_DIR=${IMAGES_DIR:-$ROOT/bin/images/dev}
E2E_TIMEOUT=${E2E_TIMEOUT:-30m}
NS=kubernaut-system
SERVICES=(gateway orchestrator processing aianalysis workflow executor notification datastorage)
# The e2e workload's archive (make e2e-workload-image): kubernaut.local/e2e-workload:1.4.2 and
# :1.5.0 (internal/workload), with which the scenarios stage a real OOM kill and a real crash loop.
WORKLOAD_ARCHIVE=$IMAGES_DIR/e2e-workload.tar

die() {
  echo "e2e-kind: $*" >&2
  exit 1
}

preflight() {
  command -v docker >/dev/null || die "the docker CLI is not installed; kind runs its nodes as Docker containers (apt-get install docker.io). NOT RUN."
  docker info >/dev/null 2>&1 || die "no Docker daemon answers (docker info failed). kind needs a running dockerd that may start privileged containers. NOT RUN."
  command -v "$KIND" >/dev/null || die "kind not found ($KIND); make e2e-kind installs it into bin/tools"
  command -v kubectl >/dev/null || die "kubectl not found"
}

kc() { kubectl --kubeconfig "$E2E_KUBECONFIG" "$@"; }
# deploy_kubernaut and run_e2e_suite, shared with make test-e2e-deployed (hack/node/e2e-deployed.sh)
# shellcheck source=hack/node/e2e-lib.sh
source "$ROOT/hack/node/e2e-lib.sh"

up() {
  preflight
  for s in "${SERVICES[@]}"; do
    [[ -f $IMAGES_DIR/$s.tar ]] || die "$IMAGES_DIR/$s.tar missing: run make docker-build IMAGE_TAG=dev"
  done
  [[ -f $WORKLOAD_ARCHIVE ]] || die "$WORKLOAD_ARCHIVE missing (the e2e workload the scenarios deploy): run make e2e-workload-image IMAGE_TAG=dev"
  if ! "$KIND" get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; then
    args=(create cluster --name "$KIND_CLUSTER" --config deploy/overlays/kind/kind-cluster.yaml --kubeconfig "$E2E_KUBECONFIG" --wait 180s)
    [[ -n ${KIND_NODE_IMAGE:-} ]] && args+=(--image "$KIND_NODE_IMAGE")
    if ! "$KIND" "${args[@]}"; then
      die "kind could not create the cluster. Its node containers must run --privileged (and pull kindest/node from a registry); sandboxes without CAP_SYS_RESOURCE or registry access cannot run kind. NOT RUN: no e2e result."
    fi
  else
    "$KIND" get kubeconfig --name "$KIND_CLUSTER" >"$E2E_KUBECONFIG"
  fi
  for s in "${SERVICES[@]}"; do
    "$KIND" load image-archive "$IMAGES_DIR/$s.tar" --name "$KIND_CLUSTER"
  done
  "$KIND" load image-archive "$WORKLOAD_ARCHIVE" --name "$KIND_CLUSTER"
  deploy_kubernaut deploy/overlays/kind
  echo "e2e-kind: Kubernaut is Ready on kind cluster $KIND_CLUSTER (kubeconfig $E2E_KUBECONFIG)"
}

run_tests() {
  preflight
  [[ -d test/e2e ]] || die "test/e2e does not exist yet: nothing to run. NOT RUN."
  # The NodePorts of deploy/overlays/kind/e2e-access.yaml, published on the host's loopback by
  # kind-cluster.yaml: unlike a port-forward they survive the pods the suite stops and kills.
  run_e2e_suite http://127.0.0.1:30080 http://127.0.0.1:30081
}

down() {
  command -v "$KIND" >/dev/null || die "kind not found ($KIND)"
  docker info >/dev/null 2>&1 || die "no Docker daemon answers: there is no kind cluster to delete"
  "$KIND" delete cluster --name "$KIND_CLUSTER"
  rm -f "$E2E_KUBECONFIG"
}

case ${1:-} in
  up) up ;;
  test) run_tests ;;
  all) up && run_tests ;;
  down) down ;;
  *) die "usage: $0 up|test|all|down" ;;
esac
