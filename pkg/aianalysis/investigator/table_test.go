package investigator_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"testing"

	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
)

// TestPrintScenarioTable prints the builtin rules' answers (KUBERNAUT_PRINT_TABLE=1).
func TestPrintScenarioTable(t *testing.T) {
	if os.Getenv("KUBERNAUT_PRINT_TABLE") == "" {
		t.Skip("set KUBERNAUT_PRINT_TABLE=1 to print the scenario table")
	}
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
