#!/usr/bin/env bash
# make test-e2e-deployed: the e2e suite's remote mode against Kubernaut deployed as pods on a real
# kubelet node of this machine (hack/node/cluster.sh; docs/deployed.md).
#
#   hack/node/e2e-deployed.sh all    up + deploy + test, then down whatever happened (the make target)
#   hack/node/e2e-deployed.sh up     the node, the images imported, the overlay applied and Ready
#   hack/node/e2e-deployed.sh test   (after up) go test ./test/e2e/ in remote mode
#   hack/node/e2e-deployed.sh down   stop the node and remove what it left on the host
#
# Environment: IMAGES_DIR (bin/images/dev: the eight services' archives, e2e-workload.tar and
# postgres.tar), OVERLAY (deploy/overlays/kind), E2E_TIMEOUT (40m), GO_TEST_FLAGS, KEEP=1 (all:
# leave the cluster up at the end; hack/node/e2e-deployed.sh down removes it).
set -euo pipefail
cd "$(dirname "$0")/../.."

ROOT=$(pwd)
NS=kubernaut-system
SERVICES=(gateway orchestrator processing aianalysis workflow executor notification datastorage)
IMAGES_DIR=${IMAGES_DIR:-$ROOT/bin/images/dev}
OVERLAY=${OVERLAY:-deploy/overlays/kind}
E2E_TIMEOUT=${E2E_TIMEOUT:-40m}
CLUSTER="$ROOT/hack/node/cluster.sh"
export PATH="$PATH:${NODE_BIN:-$ROOT/bin/k8s/${K8S_VERSION:-1.37.2}/node}" # kubectl, when hack/node/build.sh had to build it
E2E_KUBECONFIG=${NODE_DIR:-$ROOT/bin/deployed}/kubeconfig
HOST_IP=${HOST_IP:-$(ip -o -4 addr show scope global | awk '!n++ {sub("/.*", "", $4); print $4}')}
export HOST_IP

die() {
  echo "e2e-deployed: $*" >&2
  exit 1
}
kc() { kubectl --kubeconfig "$E2E_KUBECONFIG" "$@"; }
# shellcheck source=hack/node/e2e-lib.sh
source "$ROOT/hack/node/e2e-lib.sh"

up() {
  local archives=() s
  for s in "${SERVICES[@]}" e2e-workload postgres; do
    [[ -f $IMAGES_DIR/$s.tar ]] || die "$IMAGES_DIR/$s.tar missing: make docker-build e2e-workload-image IMAGE_TAG=dev; hack/node/postgres-image.sh"
    archives+=("$IMAGES_DIR/$s.tar")
  done
  "$CLUSTER" up
  "$CLUSTER" import "${archives[@]}"
  deploy_kubernaut "$OVERLAY"
  check_postgres_volume
  check_leader_election
  echo "e2e-deployed: Kubernaut is Ready as pods on the kubelet nodes (kubeconfig $E2E_KUBECONFIG)"
}

# check_postgres_volume: PostgreSQL's data is on its PersistentVolume (the hostPath of
# hack/node/cluster.sh) and outlives its pod: postgres-0 deleted, the new pod starts on the same
# data (no second initdb, the same PG_VERSION file) and datastorage stays Ready.
check_postgres_volume() {
  local pgdata=${NODE_DIR:-$ROOT/bin/deployed}/volumes/postgres/pgdata before after
  kc -n "$NS" get pvc data-postgres-0 -o jsonpath='{.status.phase} {.spec.volumeName}' | grep -q '^Bound kubernaut-node-postgres$' ||
    die "claim data-postgres-0 is not Bound to the PersistentVolume kubernaut-node-postgres"
  [[ -s $pgdata/PG_VERSION ]] || die "$pgdata/PG_VERSION missing: PostgreSQL's data is not on its volume"
  before=$(stat -c %i:%Y "$pgdata/PG_VERSION")
  kc -n "$NS" delete pod postgres-0 --wait=true >/dev/null
  kc -n "$NS" rollout status statefulset/postgres --timeout 180s >/dev/null
  kc -n "$NS" wait --for condition=Ready --timeout 180s pod/postgres-0 >/dev/null
  after=$(stat -c %i:%Y "$pgdata/PG_VERSION")
  [[ $before == "$after" ]] || die "PostgreSQL's data directory was made anew after its pod was deleted"
  if kc -n "$NS" logs postgres-0 | grep -q 'CREATE DATABASE'; then die "postgres-0 ran initdb again after its pod was deleted"; fi
  kc -n "$NS" rollout status deployment/datastorage --timeout 180s >/dev/null
  echo "e2e-deployed: PostgreSQL: claim data-postgres-0 Bound, data in $pgdata; postgres-0 deleted, back Ready on the same data"
}

# check_leader_election: where the overlay runs two replicas of a leader-elected service, both are
# Ready and exactly one of them holds the service's Lease.
check_leader_election() {
  local s replicas holder pods
  for s in orchestrator notification; do
    replicas=$(kc -n "$NS" get deployment "$s" -o jsonpath='{.status.readyReplicas}')
    [[ $replicas == 2 ]] || die "deployment/$s: $replicas replicas Ready, want 2"
    holder=
    for _ in $(seq 1 60); do
      holder=$(kc -n "$NS" get lease "kubernaut-$s" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null || true)
      [[ -n $holder ]] && break
      sleep 1
    done
    pods=$(kc -n "$NS" get pods -l "app.kubernetes.io/name=$s" -o jsonpath='{.items[*].metadata.name}')
    [[ " $pods " == *" ${holder%%_*} "* ]] || die "lease kubernaut-$s is held by '$holder', not by one of the pods ($pods)"
    echo "e2e-deployed: leader election: $s has 2 Ready replicas ($pods), lease kubernaut-$s held by ${holder%%_*}"
    # Failover: with the nodes cordoned (so that no replacement pod competes), the leader's pod is
    # deleted; it releases the Lease as it stops and the standby replica must take it over.
    local old=${holder%%_*} standby new= t0=$SECONDS
    standby=$(tr ' ' '\n' <<<"$pods" | grep -vx "$old" | head -1 || true)
    [[ -n $standby ]] || die "deployment/$s: no replica besides the leader $old ($pods)"
    kc cordon -l kubernetes.io/os=linux >/dev/null
    kc -n "$NS" delete pod "$old" --wait=false >/dev/null
    for _ in $(seq 1 120); do
      new=$(kc -n "$NS" get lease "kubernaut-$s" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null || true)
      new=${new%%_*}
      [[ $new == "$standby" ]] && break
      new=
      sleep 0.5
    done
    kc uncordon -l kubernetes.io/os=linux >/dev/null
    [[ -n $new ]] || die "lease kubernaut-$s: the standby $standby did not take it over within 60s of deleting leader $old"
    echo "e2e-deployed: leader election: leader $old deleted, standby $new took lease kubernaut-$s over within $((SECONDS - t0))s"
    kc -n "$NS" rollout status "deployment/$s" --timeout 120s >/dev/null
  done
}

run_tests() {
  [[ -f $E2E_KUBECONFIG ]] || die "$E2E_KUBECONFIG missing: run $0 up first. NOT RUN."
  # The overlay's NodePorts (e2e-access.yaml) on the node's address: kube-proxy serves NodePorts on
  # that address only (hack/node/cluster.sh), never on the host's loopback.
  run_e2e_suite "http://$HOST_IP:30080" "http://$HOST_IP:30081"
}

case ${1:-} in
  up) up ;;
  test) run_tests ;;
  down) "$CLUSTER" down ;;
  all)
    if [[ ${KEEP:-0} != 1 ]]; then trap '"$CLUSTER" down' EXIT; fi
    up
    run_tests
    ;;
  *) die "usage: $0 up|test|all|down" ;;
esac
