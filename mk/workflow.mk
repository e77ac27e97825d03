# The workflow service: its tests and benchmarks alone (envtest), with the shared packages it owns.

WORKFLOW_PKGS := ./pkg/workflow/... ./pkg/shared/actions/mutate/ ./pkg/shared/objdiff/ ./cmd/workflow/...

.PHONY: test-workflow
test-workflow: envtest-assets ## Run the workflow service's tests (planning, validation against envtest, mutate, objdiff).
	go test $(GO_TEST_FLAGS) $(WORKFLOW_PKGS)

.PHONY: bench-workflow
bench-workflow: envtest-assets ## Benchmark planning+validation of a one-step increase_resources workflow.
	go test -run '^$$' -bench . -benchtime 3s ./pkg/workflow/
