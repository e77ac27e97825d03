package orchestrator

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

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
	f.forget(&remediationv1.RemediationRequestStatus{AIAnalysisRef: &common.ObjectReference{Namespace: "ns", Name: "rr-analysis"}})
	assert.Zero(t, f.len())
}
