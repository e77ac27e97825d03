# The e2e suite against Kubernaut deployed as pods on a real kubelet node of this machine (no
# Docker daemon, no registry): hack/node/ and docs/deployed.md. Needs root (containerd, iptables,
# mounts); installs the Debian packages it misses (containerd, runc, containernetworking-plugins,
# iptables, conntrack) with apt-get.

NODE_ASSETS := $(ENVTEST_ASSETS)/node
DEPLOYED_OVERLAY ?= deploy/overlays/kind
DEPLOYED_E2E_TIMEOUT ?= 40m

.PHONY: deployed-assets
deployed-assets: ## Build what the kubelet node needs: control plane, kubelet, kube-proxy, CoreDNS, the images (IMAGE_TAG=dev), postgres:15 from Debian.
	$(MAKE) --no-print-directory envtest-assets
	K8S_VERSION=$(K8S_VERSION) NODE_BIN=$(NODE_ASSETS) ./hack/node/build.sh
	$(MAKE) --no-print-directory docker-build e2e-workload-image IMAGE_TAG=dev
	OUT=$(BIN)/images/dev/postgres.tar ./hack/node/postgres-image.sh

.PHONY: test-e2e-deployed
test-e2e-deployed: deployed-assets ## Bring up a kubelet node, deploy DEPLOYED_OVERLAY as pods, run test/e2e in remote mode, tear it all down.
	@start=$$(date +%s); rc=0; \
	  OVERLAY=$(DEPLOYED_OVERLAY) E2E_TIMEOUT=$(DEPLOYED_E2E_TIMEOUT) IMAGES_DIR=$(BIN)/images/dev NODE_BIN=$(NODE_ASSETS) \
	    ./hack/node/e2e-deployed.sh all || rc=$$?; \
	  echo "test-e2e-deployed: $$(( $$(date +%s) - start ))s (cluster up, deploy, suite, down), exit $$rc"; exit $$rc

.PHONY: deployed-up
deployed-up: deployed-assets ## Only bring up the kubelet node with Kubernaut deployed and Ready (kubeconfig bin/deployed/kubeconfig).
	OVERLAY=$(DEPLOYED_OVERLAY) IMAGES_DIR=$(BIN)/images/dev NODE_BIN=$(NODE_ASSETS) ./hack/node/e2e-deployed.sh up

.PHONY: deployed-down
deployed-down: ## Stop the kubelet node of deployed-up and remove what it left on the host.
	NODE_BIN=$(NODE_ASSETS) ./hack/node/e2e-deployed.sh down
