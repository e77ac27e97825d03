# The processing service: its tests and benchmarks alone (envtest).

PROCESSING_PKGS := ./pkg/processing/... ./cmd/processing/...

.PHONY: test-processing
test-processing: envtest-assets ## Run the processing service's tests (classification, 8 KiB bound, live bounded reads, envtest scenarios, meeting with the orchestrator).
	go test $(GO_TEST_FLAGS) $(PROCESSING_PKGS)

.PHONY: bench-processing
bench-processing: envtest-assets ## Benchmark enrichment with 1,000 pods and 10,000 Warning events in the target's namespace, and the binary's RSS.
	KUBERNAUT_PROCESSING_RSS=1 go test -timeout 60m -run '^$$' -bench 'Enrichment$$' -benchtime 300x ./pkg/processing/

.PHONY: bench-processing-large
bench-processing-large: envtest-assets ## Benchmark enrichment and the binary's RSS with 20,000 pods in 500 namespaces and 100,000 Warning events (populating takes about 5 minutes on 2 cores).
	KUBERNAUT_PROCESSING_LARGE=1 KUBERNAUT_PROCESSING_RSS=1 go test -timeout 120m -run '^$$' -bench 'EnrichmentLargeCluster' -benchtime 400x ./pkg/processing/
