# aianalysis: its tests (unit, stand-ins, envtest) and benchmarks, and the builtin rules' table.

.PHONY: test-aianalysis
test-aianalysis: envtest-assets ## Run the aianalysis tests (builtin rules, LLM stand-ins, envtest controller and meeting tests).
	go test $(GO_TEST_FLAGS) ./pkg/aianalysis/... ./cmd/aianalysis/... ./internal/testutil/llmstandin/...

.PHONY: bench-aianalysis
bench-aianalysis: envtest-assets ## Benchmark aianalysis (builtin rules alone; end to end on envtest at 1 and 10 in flight).
	go test -run '^$$' -bench . -benchtime 300x ./pkg/aianalysis/

.PHONY: aianalysis-rules-table
aianalysis-rules-table: ## Print the builtin rules' answer for every scenario of their table test.
	KUBERNAUT_PRINT_TABLE=1 go test -count=1 -run TestPrintScenarioTable -v ./pkg/aianalysis/investigator/ | grep '^|'
