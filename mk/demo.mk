# The demo and the end-to-end suite: the eight services as processes on a local cluster whose
# pods run (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok) and PostgreSQL.
# See internal/launcher and the README's quick start.

DEMO_FLAGS ?=
E2E_FLAGS ?= -count=1 -timeout 45m -v

# with_progress runs a long command and prints a line every 15 s so that a first build is never
# minutes of silence: $(call with_progress,what,command).
define with_progress
( $(2) ) & pid=$$!; i=0; \
while kill -0 $$pid 2>/dev/null; do sleep 1; i=$$((i + 1)); \
  if [ $$((i % 15)) = 0 ] && kill -0 $$pid 2>/dev/null; then echo "  … still $(1) ($${i}s)"; fi; \
done; wait $$pid
endef

.PHONY: demo-assets
demo-assets:
	@$(call with_progress,building the local control plane (first run only; several minutes),$(MAKE) --no-print-directory envtest-assets)
	@./hack/ensure-postgres.sh

.PHONY: demo
demo: demo-assets ## Start everything locally and play an incident (DEMO_FLAGS="--scenario crashloop|node-notready --require-approval --keep-running").
	@echo "building the demo program (cached after the first run)"
	@$(call with_progress,building the demo program,go build -o $(BIN)/kubernaut-demo ./hack/demo)
	@$(BIN)/kubernaut-demo $(DEMO_FLAGS)

.PHONY: test-e2e
test-e2e: demo-assets ## Run the end-to-end suite (real binaries, local cluster, PostgreSQL, stand-ins).
	KUBERNAUT_E2E=1 go test $(E2E_FLAGS) ./test/e2e/...

.PHONY: bench-e2e
bench-e2e: demo-assets ## Alert → executed change over 50 OOM incidents in sequence, 20 at once, then 100 at once (remediations/s beside the API server's write ceiling).
	go build -o $(BIN)/kubernaut-demo ./hack/demo
	$(BIN)/kubernaut-demo --bench-sequential 50 --bench-concurrent 20 --bench-concurrent-large 100 | tee $(BIN)/bench-e2e.txt
