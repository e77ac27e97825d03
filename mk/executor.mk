# The executor service: its tests and benchmark alone (envtest, and a local cluster for post-conditions).

EXECUTOR_PKGS := ./pkg/executor/... ./cmd/executor/...

.PHONY: test-executor
test-executor: envtest-assets ## Run the executor's tests (every action, every refusal, crash, rollback, dry-run, PDB, meeting with workflow, local-cluster rollback).
	go test $(GO_TEST_FLAGS) $(EXECUTOR_PKGS)

.PHONY: bench-executor
bench-executor: envtest-assets ## Benchmark increase_resources on 100 Deployments through the executor beside raw patches.
	go test -run '^$$' -bench IncreaseResources -benchtime 3x ./pkg/executor/
