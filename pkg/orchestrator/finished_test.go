package orchestrator

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
)

func TestFinishedRequestsReadNoChildren(t *testing.T) {
	for _, tc := range []struct {
		phase   remediationv1.Phase
		pending int
		want    bool
	}{
		{remediationv1.PhaseExecuting, 0, true},
		{remediationv1.PhaseVerifying, 0, true},
		{remediationv1.PhaseCompleted, 1, true}, // its audit records still name the children's phases
		{remediationv1.PhaseCompleted, 0, false},
		{remediationv1.PhaseFailed, 0, false},
	} {
		rr := &remediationv1.RemediationRequest{Status: remediationv1.RemediationRequestStatus{OverallPhase: tc.phase}}
		for range tc.pending {
			rr.Status.Audit.PendingPhases = append(rr.Status.Audit.PendingPhases, remediationv1.AuditPendingPhase{Phase: tc.phase})
		}
		assert.Equal(t, tc.want, needsChildren(rr), "%s with %d phases to audit", tc.phase, tc.pending)
	}
}

func TestFinishedChildrenAreForgottenWithTheirRequest(t *testing.T) {
	var f finishedChildren
	a := &aiv1.AIAnalysis{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "rr-analysis"}, Status: aiv1.AIAnalysisStatus{Phase: aiv1.PhaseCompleted}}
	assert.True(t, childFinished(a))
	f.put(a)
	got, ok := f.get(types.NamespacedName{Namespace: "ns", Name: "rr-analysis"})
	assert.True(t, ok)
	assert.Equal(t, a, got)
	got.(*aiv1.AIAnalysis).Status.Phase = aiv1.PhaseFailed // a copy: the remembered state is unchanged
	got, _ = f.get(types.NamespacedName{Namespace: "ns", Name: "rr-analysis"})
	assert.Equal(t, aiv1.PhaseCompleted, got.(*aiv1.AIAnalysis).Status.Phase)
	f.forgetRequest(types.NamespacedName{Namespace: "ns", Name: "rr"})
	assert.Zero(t, f.len())
}

func TestSettledRequestsAreNotReconciledAtStartUp(t *testing.T) {
	done := metav1.Now()
	settledRR := func() *remediationv1.RemediationRequest {
		rr := &remediationv1.RemediationRequest{ObjectMeta: metav1.ObjectMeta{Name: "rr", Generation: 1}}
		rr.Status = remediationv1.RemediationRequestStatus{OverallPhase: remediationv1.PhaseCompleted, Outcome: remediationv1.OutcomeRemediated,
			CompletionTime: &done, ObservedGeneration: 1, Conditions: []metav1.Condition{{Type: remediationv1.ConditionReady}},
			NotificationRequestRefs: []common.ObjectReference{{Name: "rr-completion"}}}
		return rr
	}
	r := &Reconciler{}
	assert.True(t, r.settled(settledRR()))
	for name, change := range map[string]func(*remediationv1.RemediationRequest){
		"running": func(rr *remediationv1.RemediationRequest) { rr.Status.OverallPhase = remediationv1.PhaseExecuting },
		"audit pending": func(rr *remediationv1.RemediationRequest) {
			rr.Status.Audit.PendingPhases = []remediationv1.AuditPendingPhase{{}}
		},
		"generation not observed": func(rr *remediationv1.RemediationRequest) { rr.Generation = 2 },
		"no conditions yet":       func(rr *remediationv1.RemediationRequest) { rr.Status.Conditions = nil },
		"no outcome notification": func(rr *remediationv1.RemediationRequest) { rr.Status.NotificationRequestRefs = nil },
		"manual review not yet notified": func(rr *remediationv1.RemediationRequest) {
			rr.Status.Outcome = remediationv1.OutcomeManualReviewRequired
		},
		"being deleted": func(rr *remediationv1.RemediationRequest) { rr.DeletionTimestamp = &done },
	} {
		rr := settledRR()
		change(rr)
		assert.False(t, r.settled(rr), name)
	}
	p := r.settledAtStart()
	assert.False(t, p.Create(event.CreateEvent{Object: settledRR()}), "a settled request at start-up")
	running := settledRR()
	running.Status.OverallPhase = remediationv1.PhaseExecuting
	assert.True(t, p.Create(event.CreateEvent{Object: running}))
	assert.True(t, p.Update(event.UpdateEvent{ObjectOld: settledRR(), ObjectNew: settledRR()}), "updates always pass")
}
