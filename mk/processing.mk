# The processing service: its tests and benchmark alone (envtest).

PROCESSING_PKGS := ./pkg/processing/... ./cmd/processing/...

.PHONY: test-processing
test-processing: envtest-assets ## Run the processing service's tests (classification, 8 KiB bound, envtest scenarios, meeting with the orchestrator).
	go test $(GO_TEST_FLAGS) $(PROCESSING_PKGS)

.PHONY: bench-processing
bench-processing: envtest-assets ## Benchmark enrichment with 1,000 pods and 10,000 events in the target namespace, and the binary's RSS.
	KUBERNAUT_PROCESSING_RSS=1 go test -run '^$$' -bench Enrichment -benchtime 3s ./pkg/processing/
