# Deploying: the e2e suite on a kind cluster (hack/e2e-kind.sh; docs/deploying.md).
# Needs Docker with privileged containers and a registry for the kind node image; where they are
# missing the targets say so and fail, never pass.

KIND_VERSION ?= v0.33.0
KIND := $(TOOLS)/kind-$(KIND_VERSION)
KIND_CLUSTER ?= kubernaut-e2e

$(KIND):
	mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) GOWORK=off go install sigs.k8s.io/kind@$(KIND_VERSION)
	mv $(TOOLS)/kind $@

.PHONY: e2e-kind-preflight
e2e-kind-preflight:
	@command -v docker >/dev/null || { echo "e2e-kind: the docker CLI is not installed; kind runs its nodes as Docker containers. NOT RUN: no e2e result." >&2; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "e2e-kind: no Docker daemon answers (docker info failed). kind needs dockerd that may start privileged containers, and a registry for kindest/node and postgres:15. Without them run the same scenarios in local mode: go test ./test/e2e/. NOT RUN: no e2e result." >&2; exit 1; }

.PHONY: e2e-kind
e2e-kind: e2e-kind-preflight $(KIND) ## Create a kind cluster, load the images, apply deploy/overlays/kind, wait for Ready, run test/e2e against it.
	$(MAKE) docker-build e2e-workload-image IMAGE_TAG=dev
	KIND=$(KIND) KIND_CLUSTER=$(KIND_CLUSTER) IMAGES_DIR=$(BIN)/images/dev ./hack/e2e-kind.sh all

.PHONY: e2e-kind-up
e2e-kind-up: e2e-kind-preflight $(KIND) ## Only create the kind cluster with Kubernaut deployed and Ready (no tests).
	$(MAKE) docker-build e2e-workload-image IMAGE_TAG=dev
	KIND=$(KIND) KIND_CLUSTER=$(KIND_CLUSTER) IMAGES_DIR=$(BIN)/images/dev ./hack/e2e-kind.sh up

.PHONY: e2e-kind-down
e2e-kind-down: e2e-kind-preflight $(KIND) ## Delete the kind cluster of e2e-kind.
	KIND=$(KIND) KIND_CLUSTER=$(KIND_CLUSTER) ./hack/e2e-kind.sh down

.PHONY: deploy-render
deploy-render: ## Print the manifests of OVERLAY (default deploy/overlays/kind) as kubectl would apply them.
	kubectl kustomize $(or $(OVERLAY),deploy/overlays/kind)
