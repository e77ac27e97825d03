# The gateway: its tests and benchmarks alone (envtest).

GATEWAY_PKGS := ./pkg/gateway/... ./cmd/gateway/...

.PHONY: test-gateway
test-gateway: envtest-assets ## Run the gateway's tests (real mixin label sets → targets, unresolved alerts, duplicates across replicas, API outage).
	go test $(GO_TEST_FLAGS) $(GATEWAY_PKGS)

.PHONY: bench-gateway
bench-gateway: envtest-assets ## Benchmark distinct alerts with pod → Deployment resolution beside raw Creates, duplicates beside raw patches, and the caches' memory.
	go test -run '^$$' -bench 'DistinctVsCeiling|OwnerCacheMemory|CacheMemory10k' -benchtime 1x ./pkg/gateway/
	go test -run '^$$' -bench 'DuplicatesVsPatchCeiling' -benchtime 3s ./pkg/gateway/
