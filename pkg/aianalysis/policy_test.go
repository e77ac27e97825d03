package aianalysis_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/aianalysis"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
)

func finding(conf float64, risk aiv1.RiskLevel, actions ...string) investigator.Finding {
	var steps []common.WorkflowStep
	for _, a := range actions {
		steps = append(steps, common.WorkflowStep{Name: a, Action: a})
	}
	return investigator.Finding{Outcome: aiv1.OutcomeActionRecommended, Recommendations: []aiv1.Recommendation{{Action: actions[0], Confidence: conf, RiskLevel: risk, WorkflowSteps: steps}}}
}

func TestApprovalPolicy(t *testing.T) {
	p := aianalysis.DefaultApprovalPolicy()
	cases := map[string]struct {
		f        investigator.Finding
		env      string
		provider string
		want     []string
	}{
		"confident, medium risk, builtin: no approval": {finding(0.9, aiv1.RiskMedium, "increase_resources"), "production", "builtin", nil},
		"below 0.8": {finding(0.7, aiv1.RiskMedium, "rollout_restart"), "staging", "builtin", []string{"confidence 0.70 is below 0.80"}},
		"high risk in production": {finding(0.9, aiv1.RiskHigh, "cordon_node", "drain_node"), "production", "builtin",
			[]string{"high-risk action in production", "action drain_node always requires approval"}},
		"drain_node anywhere":        {finding(0.9, aiv1.RiskHigh, "drain_node"), "development", "builtin", []string{"action drain_node always requires approval"}},
		"LLM provider":               {finding(0.95, aiv1.RiskLow, "cordon_node"), "development", "openai", []string{"recommendations of the openai provider require approval"}},
		"manual review needs no one": {investigator.Finding{Outcome: aiv1.OutcomeManualReviewRequired}, "production", "openai", nil},
		"recent changes unread, however confident": {func() investigator.Finding {
			f := finding(0.95, aiv1.RiskMedium, "increase_resources")
			f.Evidence = []string{investigator.HistoryUnknownEvidence + "Kubernaut's changes to Deployment/shop/web in the last 6h could not be read (datastorage: HTTP 503)"}
			return f
		}(), "development", "builtin", []string{"Kubernaut's recent changes to the target could not be read: a repeat of the same action cannot be ruled out"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, p.Requires(tc.f, tc.env, tc.provider))
		})
	}
}

func TestParsePolicy(t *testing.T) {
	p, err := aianalysis.ParsePolicy("minConfidence: 0.9\nrequireApprovalForLLMProviders: false\napprovalTimeout: 5m\nallowDrainNode: true\n")
	require.NoError(t, err)
	assert.InDelta(t, 0.9, p.MinConfidence, 1e-9)
	assert.False(t, p.RequireApprovalForLLMProviders)
	assert.True(t, p.AllowDrainNode)
	assert.Equal(t, 5*time.Minute, p.ApprovalTimeout.Duration)
	assert.Equal(t, []string{"drain_node"}, p.RequireApprovalForActions, "absent fields keep their defaults")

	for name, bad := range map[string]string{
		"unknown field":        "minConfidense: 0.5\n",
		"confidence above 1":   "minConfidence: 3\n",
		"not a catalog action": "requireApprovalForActions: [delete_cluster]\n",
		"zero timeout":         "approvalTimeout: 0s\n",
	} {
		t.Run(name, func(t *testing.T) {
			p, err := aianalysis.ParsePolicy(bad)
			require.Error(t, err)
			assert.Equal(t, aianalysis.DefaultApprovalPolicy(), p, "an invalid policy never loosens the gate")
		})
	}
}

// TestShippedPolicy checks that deploy/base/config/aianalysis.yaml parses to the defaults.
func TestShippedPolicy(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "deploy", "base", "config", "aianalysis.yaml"))
	require.NoError(t, err)
	var cm corev1.ConfigMap
	require.NoError(t, yaml.UnmarshalStrict(raw, &cm))
	assert.Equal(t, aianalysis.DefaultPolicyConfigMap, cm.Name)
	p, err := aianalysis.ParsePolicy(cm.Data[aianalysis.PolicyKey])
	require.NoError(t, err)
	assert.Equal(t, aianalysis.DefaultApprovalPolicy(), p)
}
