# The soak: the whole system (internal/launcher) under a steady stream of alerts across many
# namespaces and incident kinds, with faults injected, ending with every alert accounted for.
# docs/soak.md explains the flags, the checks and the output. Exits non-zero when an invariant fails.

SOAK_FLAGS ?=

.PHONY: soak
soak: demo-assets ## Soak for 10 minutes (alert every 2 s, faults injected; not in CI; output in bin/soak.txt).
	go build -o $(BIN)/kubernaut-soak ./hack/soak
	$(BIN)/kubernaut-soak --duration 10m $(SOAK_FLAGS) | tee $(BIN)/soak.txt

.PHONY: soak-ci
soak-ci: demo-assets ## The soak for 2 minutes (CI; output in bin/soak-ci.txt).
	go build -o $(BIN)/kubernaut-soak ./hack/soak
	$(BIN)/kubernaut-soak --duration 2m --drain-timeout 2m $(SOAK_FLAGS) | tee $(BIN)/soak-ci.txt
