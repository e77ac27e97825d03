# kubectl-kubernaut, the kubectl plugin (cmd/kubectl-kubernaut, pkg/kubectlplugin).

# PLUGIN_DIR is where install-plugin copies the binary; empty picks the first of $(go env GOBIN),
# $(go env GOPATH)/bin and ~/.local/bin that is on PATH (else ~/.local/bin, with a warning).
PLUGIN_DIR ?=

.PHONY: plugin
plugin: ## Build the kubectl plugin into bin/kubectl-kubernaut.
	go build -o $(BIN)/kubectl-kubernaut ./cmd/kubectl-kubernaut

.PHONY: install-plugin
install-plugin: plugin ## Install kubectl-kubernaut on PATH (PLUGIN_DIR=dir to choose) so that `kubectl kubernaut` works.
	@dir="$(PLUGIN_DIR)"; \
	if [ -z "$$dir" ]; then \
	  for d in "$$(go env GOBIN)" "$$(go env GOPATH)/bin" "$$HOME/.local/bin"; do \
	    [ -n "$$d" ] || continue; \
	    case ":$$PATH:" in *":$$d:"*) dir="$$d"; break;; esac; \
	  done; \
	fi; \
	if [ -z "$$dir" ]; then dir="$$HOME/.local/bin"; fi; \
	mkdir -p "$$dir"; \
	install -m 0755 $(BIN)/kubectl-kubernaut "$$dir/kubectl-kubernaut"; \
	echo "installed kubectl-kubernaut in $$dir"; \
	case ":$$PATH:" in *":$$dir:"*) echo "run: kubectl kubernaut --help";; \
	  *) echo "warning: $$dir is not on PATH; add it (export PATH=\"$$dir:\$$PATH\") for kubectl to find the plugin";; esac

.PHONY: plugin-golden
plugin-golden: envtest-assets ## Regenerate the plugin's golden outputs (pkg/kubectlplugin/testdata).
	go test -count=1 ./pkg/kubectlplugin/ -run 'Golden' -update
