# Kubernaut — build, generate, verify and test. `make help` lists the targets.
SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

K8S_VERSION ?= 1.37.2
CONTROLLER_TOOLS_VERSION ?= v0.23.0
SERVICES := gateway orchestrator processing aianalysis workflow executor notification datastorage

ROOT := $(abspath .)
BIN := $(ROOT)/bin
TOOLS := $(BIN)/tools
CONTROLLER_GEN := $(TOOLS)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
ENVTEST_ASSETS := $(BIN)/k8s/$(K8S_VERSION)
export KUBEBUILDER_ASSETS := $(ENVTEST_ASSETS)
GO_TEST_FLAGS ?= -count=1 -timeout 30m

.PHONY: help
help: ## List the targets.
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-24s %s\n", $$1, $$2}'

.PHONY: build
build: ## Build all eight binaries into bin/.
	go build -o $(BIN)/ $(addprefix ./cmd/,$(SERVICES))

$(CONTROLLER_GEN):
	mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) GOWORK=off go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	mv $(TOOLS)/controller-gen $@

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code for the API types (and the gateway's slim request type).
	cd apis && $(CONTROLLER_GEN) object:headerFile=../hack/boilerplate.go.txt paths=./...
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./pkg/gateway/internal/slim/

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs (deploy/crds) and per-service RBAC (deploy/base/rbac).
	rm -f deploy/crds/*.kubernaut.io_*.yaml
	cd apis && $(CONTROLLER_GEN) crd:allowDangerousTypes=true paths=./... output:crd:artifacts:config=../deploy/crds
	for s in $(SERVICES); do \
	  paths=""; for d in pkg/$$s cmd/$$s; do grep -rqs '+kubebuilder:rbac' $$d && paths="$$paths paths=./$$d/..."; done; \
	  if [ -n "$$paths" ]; then \
	    mkdir -p deploy/base/rbac/$$s; \
	    $(CONTROLLER_GEN) rbac:roleName=kubernaut-$$s $$paths output:rbac:artifacts:config=deploy/base/rbac/$$s; \
	  fi; \
	done

.PHONY: envtest-assets
envtest-assets: ## Build kube-apiserver, etcd, controller-manager, scheduler and kwok from Go modules (cached).
	K8S_VERSION=$(K8S_VERSION) ASSETS_DIR=$(ENVTEST_ASSETS) ./hack/envtest-assets.sh

.PHONY: test
test: envtest-assets ## Run unit, envtest and PostgreSQL tests.
	./hack/ensure-postgres.sh
	cd apis && go test $(GO_TEST_FLAGS) ./...
	go test $(GO_TEST_FLAGS) ./...

.PHONY: bench
bench: envtest-assets ## Run the benchmarks of every service, then the RSS benchmark (output in bin/bench.txt).
	./hack/ensure-postgres.sh
	go test -run '^$$' -bench . -benchtime 3s ./pkg/... | tee $(BIN)/bench.txt
	KUBERNAUT_GOMEMLIMIT=90MiB go test -run '^$$' -bench RSS -benchtime 1x ./test/memory/ | tee -a $(BIN)/bench.txt

# GENERATED are the paths `make generate manifests` writes; verify requires them committed.
GENERATED := apis deploy pkg/gateway/internal/slim

.PHONY: verify
verify: generate manifests ## Fail when generated code, formatting, vet or go.mod are not clean, or a binary links test code.
	@git diff --exit-code -- $(GENERATED) || { echo "generated files differ: run 'make generate manifests' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- $(GENERATED))" || { git status --porcelain -- $(GENERATED); echo "untracked generated files: commit them"; exit 1; }
	@testonly="$$(go list -deps ./cmd/... | grep -E '/internal/testutil(/|$$)' || true)"; \
	  test -z "$$testonly" || { echo "$$testonly"; echo "a binary under ./cmd links test-only packages (internal/testutil)"; exit 1; }
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	go vet ./... && (cd apis && go vet ./...)
	for m in . apis; do (cd $$m && cp go.mod /tmp/kubernaut-go.mod && cp go.sum /tmp/kubernaut-go.sum && GOWORK=off go mod tidy && \
	  if ! git diff --quiet -- go.mod go.sum; then git diff -- go.mod go.sum; cp /tmp/kubernaut-go.mod go.mod; cp /tmp/kubernaut-go.sum go.sum; echo "go mod tidy changes $$m"; exit 1; fi); done
	GOWORK=off go build ./... && (cd apis && GOWORK=off go build ./...)

.PHONY: clean
clean: ## Remove built binaries (keeps the cached control plane).
	rm -f $(addprefix $(BIN)/,$(SERVICES))

# Targets of the demo, e2e, images and plugin live in mk/*.mk, one file per area.
-include mk/*.mk
