package action

import kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"

// Reasons of refusals and holds (status.operationResults[].reason, the SafetyValidated and Ready
// conditions, kubernaut_executor_refusals_total{reason}), declared with the condition types in
// apis/kubernetesexecution/v1alpha1; these names keep the executor's code short.
const (
	ReasonChainNotApproved     = kev1.ReasonChainNotApproved
	ReasonStaleTarget          = kev1.ReasonStaleTarget
	ReasonChangeBudgetExceeded = kev1.ReasonChangeBudgetExceeded
	ReasonNodeActionInProgress = kev1.ReasonNodeActionInProgress
	ReasonTaintNotOwned        = kev1.ReasonTaintNotOwned
	ReasonDryRunEnforced       = kev1.ReasonDryRunEnforced
	ReasonPaused               = kev1.ReasonPaused
)

// Annotations the executor writes on the nodes it changes.
const (
	// AnnotationCordoned is on a node Kubernaut cordoned (cordon_node, drain_node) while it was
	// schedulable: the identity of the operation, JSON {"execution","uid","operation","time"}.
	// The executor uncordons the node when it is healthy again and removes the annotation; a
	// node someone else uncordoned loses the annotation.
	AnnotationCordoned = "kubernaut.io/cordoned"
	// AnnotationTaints lists the taints Kubernaut added to a node (taint_node), JSON
	// ["key:effect", ...]; untaint_node removes no other.
	AnnotationTaints = "kubernaut.io/taints"
)
