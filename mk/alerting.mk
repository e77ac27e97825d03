# The real alerting pipeline of the end-to-end suite: kube-state-metrics, Prometheus and
# Alertmanager built from their Go modules at pinned versions (hack/alerting-assets.sh), cached in
# bin/alerting/<tool>-<version>/ and ~/.cache/kubernaut/alerting/. internal/testutil/alerting runs
# them; docs/e2e.md describes the pipeline and the build times.

KSM_VERSION ?= v2.20.0
PROMETHEUS_VERSION ?= v0.316.0
ALERTMANAGER_VERSION ?= v0.35.0
ALERTING_DIR := $(BIN)/alerting

.PHONY: alerting-assets
alerting-assets: ## Build kube-state-metrics, Prometheus and Alertmanager from Go modules for the e2e alerting pipeline (cached).
	@KSM_VERSION=$(KSM_VERSION) PROMETHEUS_VERSION=$(PROMETHEUS_VERSION) ALERTMANAGER_VERSION=$(ALERTMANAGER_VERSION) \
	  ALERTING_DIR=$(ALERTING_DIR) ./hack/alerting-assets.sh

# The e2e suite starts the pipeline, and so does internal/testutil/alerting's own test (in
# `make test`); these name the pinned builds (internal/testutil/alerting reads them).
test test-e2e: alerting-assets
test test-e2e: export KUBERNAUT_KUBE_STATE_METRICS := $(ALERTING_DIR)/kube-state-metrics-$(KSM_VERSION)/kube-state-metrics
test test-e2e: export KUBERNAUT_PROMETHEUS := $(ALERTING_DIR)/prometheus-$(PROMETHEUS_VERSION)/prometheus
test test-e2e: export KUBERNAUT_ALERTMANAGER := $(ALERTING_DIR)/alertmanager-$(ALERTMANAGER_VERSION)/alertmanager
