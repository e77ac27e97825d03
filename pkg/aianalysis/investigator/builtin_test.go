package investigator_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
)

func TestBuiltinRules(t *testing.T) {
	for name, sc := range Scenarios() {
		t.Run(name, func(t *testing.T) {
			res, err := investigator.Run(context.Background(), investigator.NewBuiltin(), request(sc))
			require.NoError(t, err)
			f := res.Finding
			assert.Empty(t, res.Refusals, "the builtin answer must pass its own guardrails")
			assert.Equal(t, sc.Outcome, f.Outcome, "root cause: %s", f.RootCause)
			assert.NotEmpty(t, f.RootCause)
			assert.NotEmpty(t, f.Summary)
			assert.NotEmpty(t, f.Evidence)
			assert.NotEmpty(t, f.Risk)
			if sc.Reason != "" {
				assert.Contains(t, f.ManualReviewReason, sc.Reason)
			}
			if sc.Evidence != "" {
				assert.Contains(t, strings.Join(f.Evidence, "\n"), sc.Evidence)
			}
			assert.Equal(t, sc.HistoryUnknown, investigator.HistoryUnknown(f.Evidence), "evidence: %v", f.Evidence)
			assert.LessOrEqual(t, len(f.Evidence), 20)
			switch sc.Outcome {
			case aiv1.OutcomeActionRecommended:
				require.NotEmpty(t, f.Recommendations)
				top := f.Recommendations[0]
				assert.Equal(t, sc.Action, top.Action)
				require.NotEmpty(t, top.WorkflowSteps)
				if diff := cmp.Diff(sc.Target, top.WorkflowSteps[0].Target); diff != "" {
					t.Errorf("target (-want +got):\n%s", diff)
				}
				if sc.Params != nil {
					if diff := cmp.Diff(sc.Params, top.WorkflowSteps[0].Parameters); diff != "" {
						t.Errorf("parameters (-want +got):\n%s", diff)
					}
				}
				if sc.Steps != nil {
					var got []string
					for _, s := range top.WorkflowSteps {
						got = append(got, s.Action)
					}
					assert.Equal(t, sc.Steps, got)
				}
				assert.GreaterOrEqual(t, top.Confidence, sc.MinConf)
				assert.InDelta(t, sc.MinConf, top.Confidence, 0.051, "confidence of this rule")
				assert.Len(t, f.Recommendations, 1+sc.Alts)
				assert.Empty(t, f.ManualReviewReason)
			case aiv1.OutcomeManualReviewRequired:
				assert.Empty(t, f.Recommendations)
				assert.NotEmpty(t, f.ManualReviewReason)
				assert.Zero(t, f.Confidence)
			case aiv1.OutcomeNoActionRequired:
				assert.Empty(t, f.Recommendations)
			}
		})
	}
}

// TestBuiltinIsDeterministic runs every scenario twice.
func TestBuiltinIsDeterministic(t *testing.T) {
	names := make([]string, 0)
	for n := range Scenarios() {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		sc := Scenarios()[n]
		a, _ := investigator.NewBuiltin().Investigate(context.Background(), request(sc))
		b, _ := investigator.NewBuiltin().Investigate(context.Background(), request(sc))
		assert.Empty(t, cmp.Diff(a, b), n)
	}
}
