package orchestrator_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
)

// The workflow carries the Deployment revision the analysis examined; a plan the workflow refuses
// because the Deployment runs another revision now (a person rolled it forward while the request
// awaited approval) ends the request in manual review, not in failure.
func TestPlanForAStateThatNoLongerRunsEndsInManualReview(t *testing.T) {
	h := newHarness(t, testenv.Start(t), nil)
	h.createRR("rr", nil)
	rp := child(h, "rr-processing", &processingv1.RemediationProcessing{})
	patchStatus(h, rp, func(rp *processingv1.RemediationProcessing) {
		rp.Status.Phase = processingv1.PhaseCompleted
		rp.Status.StartTime, rp.Status.CompletionTime = &metav1.Time{Time: time.Now()}, &metav1.Time{Time: time.Now()}
		rp.Status.EnrichedSignal = &processingv1.EnrichedSignal{
			Fingerprint: rp.Spec.Alert.Fingerprint, Severity: "critical", Environment: "production", BusinessPriority: "P0",
			Namespace: "shop", ResourceKind: "Deployment", ResourceName: "web",
			KubernetesContext: &common.KubernetesContext{
				Workload: &common.WorkloadSummary{Kind: "Deployment", Name: "web"},
				Rollout:  &common.RolloutHistory{Current: &common.RevisionSummary{Revision: 2, Name: "web-7c6b5d9f8"}},
			},
		}
	})
	h.waitPhase("rr", remediationv1.PhaseAnalyzing)
	h.analyze("rr", aiv1.PhaseCompleted, nil)

	w := child(h, "rr-workflow", &workflowv1.WorkflowExecution{})
	require.NotNil(t, w.Spec.AnalyzedTarget)
	assert.Equal(t, workflowv1.AnalyzedTarget{Kind: "Deployment", Namespace: "shop", Name: "web",
		Preconditions: common.Preconditions{Revision: "2", PodTemplateHash: "7c6b5d9f8"}}, *w.Spec.AnalyzedTarget)

	msg := "step raise-memory: Deployment shop/web changed since the analysis examined it (revision 2 → 3)"
	patchStatus(h, w, func(w *workflowv1.WorkflowExecution) {
		w.Status.Phase, w.Status.Message = workflowv1.PhaseFailed, msg
		w.Status.Conditions = []metav1.Condition{{Type: workflowv1.ConditionReady, Status: metav1.ConditionFalse,
			Reason: workflowv1.ReasonStaleTarget, Message: msg, LastTransitionTime: metav1.Now()}}
	})
	rr := h.waitPhase("rr", remediationv1.PhaseCompleted)
	assert.Equal(t, remediationv1.OutcomeManualReviewRequired, rr.Status.Outcome)
	assert.Contains(t, rr.Status.Message, "revision 2 → 3")
	assert.False(t, h.exists(&kev1.KubernetesExecution{}, "rr-execution"), "nothing is executed")
}
