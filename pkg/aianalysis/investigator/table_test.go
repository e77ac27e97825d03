package investigator_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
)

// TestPrintScenarioTable prints the signal → rules table and the builtin rules' answer for
// every scenario (KUBERNAUT_PRINT_TABLE=1; `make aianalysis-rules-table`).
func TestPrintScenarioTable(t *testing.T) {
	if os.Getenv("KUBERNAUT_PRINT_TABLE") == "" {
		t.Skip("set KUBERNAUT_PRINT_TABLE=1 to print the scenario table")
	}
	fmt.Println("| signal | class | rules that may apply (in order) |")
	fmt.Println("|---|---|---|")
	for _, row := range investigator.SignalTable() {
		rules := make([]string, len(row.Class.Rules))
		for i, r := range row.Class.Rules {
			rules[i] = string(r)
		}
		what := strings.Join(rules, ", ")
		if what == "" {
			what = "none: " + row.Class.Why
		}
		if !row.Class.Known {
			what += " (only with a container label and strong evidence about it)"
		}
		fmt.Printf("| %s | %s | %s |\n", row.Signal, row.Class.Name, what)
	}
	fmt.Println()
	fmt.Println("| scenario | outcome | action | target | confidence | manual review reason |")
	fmt.Println("|---|---|---|---|---|---|")
	sc := Scenarios()
	names := make([]string, 0, len(sc))
	for n := range sc {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		res, _ := investigator.Run(context.Background(), investigator.NewBuiltin(), request(sc[n]))
		f := res.Finding
		act, target := "-", "-"
		if len(f.Recommendations) > 0 {
			act = f.Recommendations[0].Action
			target = investigator.TargetString(f.Recommendations[0].WorkflowSteps[0].Target)
		}
		fmt.Printf("| %s | %s | %s | %s | %.2f | %s |\n", n, f.Outcome, act, target, f.Confidence, f.ManualReviewReason)
	}
}
