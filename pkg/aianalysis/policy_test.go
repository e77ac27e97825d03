package aianalysis_test

import (
	"context"
	"errors"
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
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
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

// A change to a workload that Argo CD or Flux applies from Git waits for a person in every
// environment, unless the policy lets it through; a step on another object does not.
func TestApprovalPolicyGitOps(t *testing.T) {
	kc := &common.KubernetesContext{Workload: &common.WorkloadSummary{Kind: "Deployment", Name: "web",
		GitOps: &common.GitOpsSource{Tool: "ArgoCD", Kind: "Application", Namespace: "team-a", Name: "shop-web"}}}
	onWeb := finding(0.95, aiv1.RiskMedium, "increase_resources")
	onWeb.Recommendations[0].WorkflowSteps[0].Target = &common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
	onPod := finding(0.95, aiv1.RiskLow, "restart_pod")
	onPod.Recommendations[0].WorkflowSteps[0].Target = &common.TargetResource{APIVersion: "v1", Kind: "Pod", Namespace: "shop", Name: "web-1"}

	p := aianalysis.DefaultApprovalPolicy()
	assert.Equal(t, []string{"Deployment shop/web is applied from Git by Argo CD Application team-a/shop-web: the change drifts from Git and the next sync or drift correction reverts it, so make it in Git as well"},
		p.GitOpsRequires(onWeb, kc, "shop"))
	assert.Nil(t, p.GitOpsRequires(onPod, kc, "shop"), "a pod's restart leaves the Deployment as Git has it")
	assert.Nil(t, p.GitOpsRequires(onWeb, &common.KubernetesContext{Workload: &common.WorkloadSummary{Kind: "Deployment", Name: "web"}}, "shop"))

	off, err := aianalysis.ParsePolicy("requireApprovalForGitOps: false\n")
	require.NoError(t, err)
	assert.Nil(t, off.GitOpsRequires(onWeb, kc, "shop"))
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

// records is a fixed set of verified records, keyed by action/environment.
type records map[string]auditapi.TrackRecord

func (r records) TrackRecord(_ context.Context, action, env string, _ time.Time) (auditapi.TrackRecord, error) {
	if rec, ok := r[action+"/"+env]; ok {
		return rec, nil
	}
	if _, ok := r["error"]; ok {
		return auditapi.TrackRecord{}, errors.New("datastorage: HTTP 503")
	}
	return auditapi.TrackRecord{Action: action, Environment: env}, nil
}

func TestEnvironmentGate(t *testing.T) {
	granted := func() aianalysis.ApprovalPolicy {
		p, err := aianalysis.ParsePolicy("autonomy:\n  grants:\n    production: [increase_resources, rollback_deployment]\n")
		require.NoError(t, err)
		return p
	}
	proven := auditapi.TrackRecord{Remediated: 40}                 // lower bound 0.91
	almost := auditapi.TrackRecord{Remediated: 20}                 // lower bound 0.84
	shaky := auditapi.TrackRecord{Remediated: 36, Ineffective: 4}  // lower bound 0.77
	few := auditapi.TrackRecord{Remediated: 19, Inconclusive: 100} // inconclusive never counts
	cases := map[string]struct {
		policy     aianalysis.ApprovalPolicy
		f          investigator.Finding
		env        string
		records    aianalysis.TrackRecords
		wantWhy    []string // substrings, one per reason
		wantEarned int
	}{
		"production waits for a person by default": {aianalysis.DefaultApprovalPolicy(), finding(0.9, aiv1.RiskMedium, "increase_resources"), "production", records{"increase_resources/production": proven},
			[]string{"every change in production needs a person (increase_resources has not been granted autonomy there)"}, 0},
		"unknown environments too": {aianalysis.DefaultApprovalPolicy(), finding(0.9, aiv1.RiskLow, "rollout_restart"), "unknown", nil,
			[]string{"every change in unknown needs a person"}, 0},
		"staging follows the other rules":     {aianalysis.DefaultApprovalPolicy(), finding(0.9, aiv1.RiskMedium, "increase_resources"), "staging", nil, nil, 0},
		"development follows the other rules": {aianalysis.DefaultApprovalPolicy(), finding(0.9, aiv1.RiskMedium, "increase_resources"), "development", nil, nil, 0},
		"granted and proven: earned":          {granted(), finding(0.9, aiv1.RiskMedium, "increase_resources"), "production", records{"increase_resources/production": proven}, nil, 1},
		"granted, 20 of 20 is not yet enough": {granted(), finding(0.9, aiv1.RiskMedium, "increase_resources"), "production", records{"increase_resources/production": almost},
			[]string{"not yet earned autonomy: increase_resources in production: 20 verified outcome(s) in the last 720h0m0s (20 remediated, 0 ineffective; 0 inconclusive not counted), success lower bound 0.84; needs at least 20 outcomes and 0.90"}, 0},
		"granted, too many failures": {granted(), finding(0.9, aiv1.RiskMedium, "increase_resources"), "production", records{"increase_resources/production": shaky},
			[]string{"success lower bound 0.77"}, 0},
		"granted, inconclusive outcomes do not count": {granted(), finding(0.9, aiv1.RiskMedium, "increase_resources"), "production", records{"increase_resources/production": few},
			[]string{"19 verified outcome(s)"}, 0},
		"a record earned in staging says nothing of production": {granted(), finding(0.9, aiv1.RiskMedium, "increase_resources"), "production", records{"increase_resources/staging": proven},
			[]string{"0 verified outcome(s)"}, 0},
		"every action of the recommendation must qualify": {granted(), finding(0.9, aiv1.RiskMedium, "rollback_deployment", "increase_resources"), "production",
			records{"rollback_deployment/production": proven, "increase_resources/production": almost}, []string{"not yet earned autonomy: increase_resources"}, 1},
		"record unreadable: a person": {granted(), finding(0.9, aiv1.RiskMedium, "increase_resources"), "production", records{"error": {}}, []string{"could not be read: datastorage: HTTP 503"}, 0},
		"no datastorage: a person":    {granted(), finding(0.9, aiv1.RiskMedium, "increase_resources"), "production", nil, []string{"cannot be read (no datastorage configured)"}, 0},
		"manual review gates nothing": {aianalysis.DefaultApprovalPolicy(), investigator.Finding{Outcome: aiv1.OutcomeManualReviewRequired}, "production", nil, nil, 0},
		"granted elsewhere only":      {granted(), finding(0.9, aiv1.RiskLow, "rollout_restart"), "production", records{"rollout_restart/production": proven}, []string{"rollout_restart has not been granted autonomy"}, 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			why, earned := tc.policy.Gate(context.Background(), tc.f, tc.env, tc.records, time.Now())
			require.Len(t, why, len(tc.wantWhy), "%q", why)
			for i, w := range tc.wantWhy {
				assert.Contains(t, why[i], w)
			}
			assert.Len(t, earned, tc.wantEarned, "%q", earned)
		})
	}
}

func TestParseAutonomy(t *testing.T) {
	p := aianalysis.DefaultApprovalPolicy()
	assert.Equal(t, []string{"production", "unknown"}, p.GatedEnvironments)
	assert.Empty(t, p.Autonomy.Grants, "nothing is granted autonomy by default")
	for name, bad := range map[string]string{
		"unknown environment in the gate":   "gatedEnvironments: [prod]\n",
		"unknown environment in the grants": "autonomy:\n  grants:\n    prod: [increase_resources]\n",
		"not a catalog action":              "autonomy:\n  grants:\n    production: [delete_namespace]\n",
		"lower bound above 1":               "autonomy:\n  minLowerBound: 1.5\n",
		"no outcomes needed":                "autonomy:\n  minOutcomes: 0\n",
		"no window":                         "autonomy:\n  window: 0s\n",
	} {
		t.Run(name, func(t *testing.T) {
			p, err := aianalysis.ParsePolicy(bad)
			require.Error(t, err)
			assert.Equal(t, aianalysis.DefaultApprovalPolicy(), p, "an invalid policy never loosens the gate")
		})
	}
}
