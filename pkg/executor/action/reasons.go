package action

// Reasons of refusals and holds that the executor adds to those of
// apis/kubernetesexecution/v1alpha1 (status.operationResults[].reason, the SafetyValidated and
// Ready conditions, kubernaut_executor_refusals_total{reason}). They belong next to the condition
// types in apis/; they are declared here until the API module carries them.
const (
	// ReasonChainNotApproved: the execution is not the one its RemediationRequest's approved and
	// validated workflow produced (owner, references, the workflow's operations, the analysis's
	// approval); nothing is changed.
	ReasonChainNotApproved = "ChainNotApproved"
	// ReasonStaleTarget: the target changed since the workflow validated it (generation,
	// Deployment revision, pod-template-hash of its current ReplicaSet); nothing is changed.
	ReasonStaleTarget = "StaleTarget"
	// ReasonChangeBudgetExceeded: the change would exceed the changes allowed per namespace or
	// per cluster per hour.
	ReasonChangeBudgetExceeded = "ChangeBudgetExceeded"
	// ReasonNodeActionInProgress: another node action is running; node actions run one at a time.
	ReasonNodeActionInProgress = "NodeActionInProgress"
	// ReasonTaintNotOwned: untaint_node (or taint_node over an existing taint) of a taint
	// Kubernaut did not add, or of a taint of Kubernetes.
	ReasonTaintNotOwned = "TaintNotOwned"
	// ReasonDryRunEnforced: the safety ConfigMap switched to dry-run while the execution ran;
	// nothing more is changed (nor reverted).
	ReasonDryRunEnforced = "DryRunEnforced"
	// ReasonPaused: the safety ConfigMap says paused; the execution holds before its next change
	// and resumes when the pause is lifted (the Ready condition's reason while it holds).
	ReasonPaused = "ExecutionPaused"
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
