package aianalysis

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
)

// setConditions computes Ready and ApprovalRequired from phase, outcome and approval, in one
// place. The orchestrator reads Ready's reason: NoActionRequired ends the remediation with
// nothing to do; a Completed analysis without workflow steps means manual review.
func setConditions(a *aiv1.AIAnalysis) {
	st := &a.Status
	ready := metav1.Condition{Type: aiv1.ConditionReady, Status: metav1.ConditionFalse, Reason: aiv1.ReasonInvestigating, Message: st.Message}
	switch st.Phase {
	case aiv1.PhaseCompleted:
		ready.Status = metav1.ConditionTrue
		switch {
		case st.Outcome == aiv1.OutcomeNoActionRequired:
			ready.Reason = aiv1.ReasonNoActionRequired
		case st.Outcome == aiv1.OutcomeManualReviewRequired:
			ready.Reason = aiv1.ReasonManualReviewRequired
		case st.Approval != nil && st.Approval.Decision == aiv1.DecisionApproved:
			ready.Reason = aiv1.ReasonApproved
		default:
			ready.Reason = aiv1.ReasonAnalyzed
		}
	case aiv1.PhaseFailed:
		ready.Reason = aiv1.ReasonProviderFailed
	case aiv1.PhaseRejected:
		ready.Reason = aiv1.ReasonRejected
		if st.Approval != nil && st.Approval.Decision == aiv1.DecisionExpired {
			ready.Reason = aiv1.ReasonApprovalExpired
		}
	case aiv1.PhaseApproving:
		ready.Reason = aiv1.ReasonAwaitingDecision
	}
	if ready.Message == "" {
		ready.Message = string(st.Phase)
	}
	ready.ObservedGeneration = a.Generation
	meta.SetStatusCondition(&st.Conditions, ready)
	if st.Approval != nil {
		ac := metav1.Condition{Type: aiv1.ConditionApprovalRequired, Status: metav1.ConditionFalse, Reason: aiv1.ReasonNotRequired,
			Message: "the approval policy lets the recommendation through", ObservedGeneration: a.Generation}
		if st.Approval.Required {
			ac.Status, ac.Reason, ac.Message = metav1.ConditionTrue, aiv1.ReasonAwaitingDecision, st.Approval.Reason
			if st.Approval.Decision != aiv1.DecisionNone {
				ac.Status, ac.Reason = metav1.ConditionFalse, string(st.Approval.Decision)
				if st.Approval.Decision == aiv1.DecisionExpired {
					ac.Reason = aiv1.ReasonApprovalExpired
				}
			}
		}
		meta.SetStatusCondition(&st.Conditions, ac)
	}
}
