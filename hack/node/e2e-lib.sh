# Shared by hack/e2e-kind.sh and hack/node/e2e-deployed.sh: apply Kubernaut to a cluster and wait
# for it, run the e2e suite's remote mode against it. Sourced; expects ROOT, NS, SERVICES and a
# function kc (kubectl with the cluster's kubeconfig) and die.

# deploy_kubernaut OVERLAY: the CRDs first and Established, so the controllers' informers find them
# at start-up, then the overlay; waits for PostgreSQL and the eight Deployments.
deploy_kubernaut() {
  local overlay=$1 s
  kc apply --server-side -k deploy/crds
  kc wait --for condition=Established --timeout 60s crd --all
  kc apply --server-side --force-conflicts -k "$overlay"
  kc -n "$NS" rollout status statefulset/postgres --timeout 300s
  for s in "${SERVICES[@]}"; do
    kc -n "$NS" rollout status "deployment/$s" --timeout 300s
  done
  kc -n "$NS" get pods -o wide
}

# run_e2e_suite GATEWAY_URL DATASTORAGE_URL: the suite in remote mode (test/e2e/e2e_test.go) with a
# token of ServiceAccount kubernaut-e2e, the kubectl plugin on PATH (scenarios 2 and 3 approve and
# reject with `kubectl kubernaut`). Needs E2E_KUBECONFIG and E2E_TIMEOUT.
run_e2e_suite() {
  local gateway=$1 datastorage=$2 url ok token
  for url in "$gateway" "$datastorage"; do
    ok=
    for _ in $(seq 1 50); do
      curl -s -o /dev/null "$url/" && ok=1 && break
      sleep 0.2
    done
    [[ -n $ok ]] || die "$url does not answer (NodePorts 30080 and 30081 of the overlay's e2e-access.yaml). NOT RUN."
  done
  go build -o "$ROOT/bin/kubectl-kubernaut" ./cmd/kubectl-kubernaut
  export PATH="$ROOT/bin:$PATH"
  token=$(kc -n "$NS" create token kubernaut-e2e --duration 2h)
  echo "e2e: go test ./test/e2e/ with KUBERNAUT_E2E_GATEWAY_URL=$gateway KUBERNAUT_E2E_DATASTORAGE_URL=$datastorage"
  KUBERNAUT_E2E=1 \
    KUBERNAUT_E2E_KUBECONFIG="$E2E_KUBECONFIG" \
    KUBERNAUT_E2E_GATEWAY_URL="$gateway" \
    KUBERNAUT_E2E_DATASTORAGE_URL="$datastorage" \
    KUBERNAUT_E2E_GATEWAY_TOKEN="$token" \
    KUBERNAUT_E2E_NAMESPACE="$NS" \
    go test ${GO_TEST_FLAGS:--count=1} -v -timeout "$E2E_TIMEOUT" ./test/e2e/
}
