package orchestrator

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
)

func TestEscalationPhaseName(t *testing.T) {
	cases := map[string]struct {
		in   remediationv1.Phase
		want string
	}{
		"single word": {remediationv1.PhaseProcessing, "processing"},
		"two words":   {remediationv1.PhaseAwaitingApproval, "awaiting-approval"},
		"timed out":   {remediationv1.PhaseTimedOut, "timed-out"},
		"empty":       {"", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, escalationPhaseName(tc.in)) })
	}
}

func TestPhaseTimeout(t *testing.T) {
	r := &Reconciler{Config: DefaultConfig()}
	override := &remediationv1.Timeouts{Analysis: &metav1.Duration{Duration: time.Minute}, Overall: &metav1.Duration{Duration: 2 * time.Hour}}
	cases := map[string]struct {
		timeouts *remediationv1.Timeouts
		phase    remediationv1.Phase
		want     time.Duration
	}{
		"processing default":        {nil, remediationv1.PhaseProcessing, 5 * time.Minute},
		"analysis default":          {nil, remediationv1.PhaseAnalyzing, 10 * time.Minute},
		"awaiting approval default": {nil, remediationv1.PhaseAwaitingApproval, 15 * time.Minute},
		"planning default":          {nil, remediationv1.PhasePlanning, 20 * time.Minute},
		"execution default":         {nil, remediationv1.PhaseExecuting, 10 * time.Minute},
		"overall default":           {nil, "overall", time.Hour},
		"analysis override":         {override, remediationv1.PhaseAnalyzing, time.Minute},
		"overall override":          {override, "overall", 2 * time.Hour},
		"other phases keep default": {override, remediationv1.PhasePlanning, 20 * time.Minute},
		"verifying has none":        {nil, remediationv1.PhaseVerifying, 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rr := &remediationv1.RemediationRequest{Spec: remediationv1.RemediationRequestSpec{Timeouts: tc.timeouts}}
			assert.Equal(t, tc.want, r.phaseTimeout(rr, tc.phase))
		})
	}
}

func TestBuildEscalation(t *testing.T) {
	r := &Reconciler{Config: DefaultConfig()}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := map[string]struct {
		priority     remediationv1.Priority
		providerData *remediationv1.ProviderData
		wantChannels []string
		wantUrgency  string
		wantNS       string
	}{
		"P0 with provider data": {remediationv1.PriorityP0, &remediationv1.ProviderData{Namespace: "pd-ns", AlertmanagerURL: "http://am"},
			[]string{"pagerduty", "slack", "email"}, "critical", "pd-ns"},
		"P1 falls back to the target": {remediationv1.PriorityP1, nil, []string{"slack", "email"}, "high", "shop"},
		"P2":                          {remediationv1.PriorityP2, nil, []string{"email"}, "normal", "shop"},
		"P3":                          {remediationv1.PriorityP3, nil, []string{"email"}, "low", "shop"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rr := &remediationv1.RemediationRequest{
				ObjectMeta: metav1.ObjectMeta{Name: "rr", Namespace: "kubernaut-system", CreationTimestamp: metav1.NewTime(now.Add(-time.Minute))},
				Spec: remediationv1.RemediationRequestSpec{SignalFingerprint: strings.Repeat("ab", 32), SignalName: "HighMemory", Severity: "critical", Environment: "production",
					Priority: tc.priority, SignalType: "prometheus-alert", FiringTime: metav1.NewTime(now), ReceivedTime: metav1.NewTime(now),
					TargetResource: common.TargetResource{Kind: "Deployment", Namespace: "shop", Name: "web"}, ProviderData: tc.providerData},
			}
			e := r.buildEscalation(rr, remediationv1.PhaseAnalyzing, "timeout", now)
			assert.Equal(t, tc.wantChannels, e.Channels)
			assert.Equal(t, tc.wantUrgency, e.Urgency)
			assert.Equal(t, tc.wantNS, e.Namespace)
			assert.Equal(t, "remediation-orchestrator", e.EscalatingController)
			assert.Equal(t, "analyzing", e.EscalationPhase)
			assert.Equal(t, "1m0s", e.RemediationDuration)
			assert.Equal(t, "10m0s", e.EscalationDetails.TimeoutDuration)
			assert.Equal(t, "web", e.Resource.Name)
			assert.Empty(t, e.Validate(), "the notification service must accept what the orchestrator sends")
		})
	}
}

func TestExecutionTimeoutCoversThePlan(t *testing.T) {
	cases := map[string]struct {
		estimated *metav1.Duration
		want      time.Duration
	}{
		"no estimate":                  {nil, 10 * time.Minute},
		"a rollout (5m)":               {&metav1.Duration{Duration: 5 * time.Minute}, 10 * time.Minute},
		"cordon then drain (1m + 10m)": {&metav1.Duration{Duration: 11 * time.Minute}, 11 * time.Minute},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := &workflowv1.WorkflowExecution{Status: workflowv1.WorkflowExecutionStatus{EstimatedDuration: tc.estimated}}
			assert.Equal(t, tc.want, executionTimeout(w))
		})
	}
}

func TestFailedRemediationCountsIneffective(t *testing.T) {
	cases := map[string]struct {
		phase   remediationv1.Phase
		outcome remediationv1.Outcome
		want    bool
	}{
		"failed":             {remediationv1.PhaseFailed, "", true},
		"timed out":          {remediationv1.PhaseTimedOut, "", true},
		"ineffective":        {remediationv1.PhaseCompleted, remediationv1.OutcomeIneffective, true},
		"remediated":         {remediationv1.PhaseCompleted, remediationv1.OutcomeRemediated, false},
		"inconclusive":       {remediationv1.PhaseCompleted, remediationv1.OutcomeInconclusive, false},
		"manual review":      {remediationv1.PhaseCompleted, remediationv1.OutcomeManualReviewRequired, false},
		"no action required": {remediationv1.PhaseCompleted, remediationv1.OutcomeNoActionRequired, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rr := &remediationv1.RemediationRequest{Status: remediationv1.RemediationRequestStatus{OverallPhase: tc.phase, Outcome: tc.outcome}}
			assert.Equal(t, tc.want, failedRemediation(rr))
		})
	}
}
