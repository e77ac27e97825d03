package v1alpha1

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
)

// Phase is the phase of a KubernetesExecution.
// +kubebuilder:validation:Enum=Pending;Validating;Executing;Completed;Failed;RolledBack
type Phase string

// Phases of a KubernetesExecution.
const (
	PhasePending    Phase = "Pending"
	PhaseValidating Phase = "Validating"
	PhaseExecuting  Phase = "Executing"
	PhaseCompleted  Phase = "Completed"
	PhaseFailed     Phase = "Failed"
	PhaseRolledBack Phase = "RolledBack"
)

// TerminalPhases are the phases an execution never leaves (Completed, Failed, RolledBack); a
// field selector on status.phase can exclude them.
func TerminalPhases() []Phase { return []Phase{PhaseCompleted, PhaseFailed, PhaseRolledBack} }

// IsTerminal reports whether an execution in this phase is finished (one of TerminalPhases).
func (p Phase) IsTerminal() bool { return slices.Contains(TerminalPhases(), p) }

// OperationPhase is the phase of one operation.
// +kubebuilder:validation:Enum=Pending;Running;Succeeded;Failed;Skipped;Refused;RolledBack
type OperationPhase string

// Phases of an operation.
const (
	OperationPending    OperationPhase = "Pending"
	OperationRunning    OperationPhase = "Running"
	OperationSucceeded  OperationPhase = "Succeeded"
	OperationFailed     OperationPhase = "Failed"
	OperationSkipped    OperationPhase = "Skipped"
	OperationRefused    OperationPhase = "Refused"
	OperationRolledBack OperationPhase = "RolledBack"
)

// Condition types and reasons of a KubernetesExecution.
const (
	// ConditionReady is True once every operation succeeded.
	ConditionReady = common.ConditionReady
	// ConditionSafe is True when every operation passed the safety checks.
	ConditionSafe = "SafetyValidated"

	ReasonExecuted          = "Executed"
	ReasonNotCatalogAction  = "NotCatalogAction"
	ReasonInvalidParameters = "InvalidParameters"
	ReasonUnmanagedNS       = "NamespaceNotManaged"
	ReasonProtected         = "TargetProtected"
	ReasonDeniedNamespace   = "NamespaceDenied"
	ReasonBlastRadius       = "BlastRadiusExceeded"
	ReasonCooldown          = "TargetCooldown"
	ReasonDryRunFailed      = "DryRunFailed"
	ReasonOperationFailed   = "OperationFailed"
	ReasonRolledBack        = "RolledBack"
	ReasonTimedOut          = "TimedOut"

	// ReasonSafetyPassed: every operation passed the safety checks.
	ReasonSafetyPassed = "SafetyChecksPassed"
	// ReasonExecuting: operations are running.
	ReasonExecuting = "Executing"
	// ReasonDryRunCompleted: dry-run mode; every operation was validated and nothing changed.
	ReasonDryRunCompleted = "DryRunCompleted"
	// ReasonTargetNotFound: the operation's target does not exist.
	ReasonTargetNotFound = "TargetNotFound"
	// ReasonTargetReplaced: the live target's UID differs from operation.targetUID (deleted and recreated).
	ReasonTargetReplaced = "TargetUIDMismatch"
	// ReasonTargetKind: the action does not accept the target's kind.
	ReasonTargetKind = "TargetKindNotAccepted"
	// ReasonTargetControlled: the workload or HPA has a controller of its own (an operator's
	// resource), which would undo the change.
	ReasonTargetControlled = "TargetControlledElsewhere"
	// ReasonNodeNotManaged: a node action on a node neither labelled managed nor allowed by configuration.
	ReasonNodeNotManaged = "NodeNotManaged"
	// ReasonNodeShare: the node action would leave too large a share of the nodes (or every node) unschedulable.
	ReasonNodeShare = "UnschedulableNodeShareExceeded"
	// ReasonSafetyConfigInvalid: the executor's safety ConfigMap cannot be read; nothing runs until it is fixed.
	ReasonSafetyConfigInvalid = "SafetyConfigInvalid"
	// ReasonPostCondition: the change was made but its post-condition did not hold within the timeout.
	ReasonPostCondition = "PostConditionFailed"
	// ReasonDrainIncomplete: a drain gave up at its timeout with pods left on the node.
	ReasonDrainIncomplete = "DrainIncomplete"
	// ReasonRollbackFailed: an operation could not be reverted.
	ReasonRollbackFailed = "RollbackFailed"
	// ReasonPrecedingFailed: an earlier operation failed, so this one did not run.
	ReasonPrecedingFailed = "PrecedingOperationFailed"
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

// ManualReviewReasons are the refusals after which a person must look rather than Kubernaut
// retry: the approved change no longer fits the target, the chain was not intact, or the change
// budget is spent. The orchestrator ends the request in manual review with the refusal's message.
var ManualReviewReasons = []string{ReasonStaleTarget, ReasonChainNotApproved, ReasonChangeBudgetExceeded}

// Labels and annotations the executor reads and writes on the objects it changes.
const (
	// LabelManaged marks a namespace (or a node) whose objects Kubernaut may change: "true".
	LabelManaged = "kubernaut.io/managed"
	// LabelProtected marks a namespace or object that Kubernaut must never change: "true".
	LabelProtected = "kubernaut.io/protected"
	// AnnotationLastRemediation is written by the executor on every object it changes, in the same
	// write as the change: JSON {"execution","uid","operation","time"}. It makes a repeated change
	// recognisable (exactly once across restarts) and carries the per-target cooldown in the cluster.
	AnnotationLastRemediation = "kubernaut.io/last-remediation"
)

// ExecutionConfig configures the execution.
type ExecutionConfig struct {
	// dryRun records what would change and changes nothing.
	// +optional
	DryRun bool `json:"dryRun,omitempty"`
	// safetyValidation runs the safety checks before any change.
	// +optional
	// +kubebuilder:default=true
	SafetyValidation *bool `json:"safetyValidation,omitempty"`
	// timeout bounds the whole execution.
	// +optional
	// +kubebuilder:default="10m"
	Timeout *metav1.Duration `json:"timeout,omitempty"`
}

// RollbackInfo records how an operation can be undone.
type RollbackInfo struct {
	// available reports whether the operation can be rolled back.
	Available bool `json:"available"`
	// previousState is the before-state needed to roll back (JSON).
	// +optional
	// +kubebuilder:validation:MaxLength=16384
	PreviousState string `json:"previousState,omitempty"`
}

// OperationResult is the result of one operation.
type OperationResult struct {
	// name of the operation.
	// +required
	Name string `json:"name"`
	// phase of the operation.
	// +required
	Phase OperationPhase `json:"phase"`
	// startTime is when the operation started.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// completionTime is when the operation finished.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// message explains the result.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Message string `json:"message,omitempty"`
	// dryRunResult describes what the server-side dry-run would change.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	DryRunResult string `json:"dryRunResult,omitempty"`
	// rollback records how to undo the operation.
	// +optional
	Rollback *RollbackInfo `json:"rollback,omitempty"`
	// reason is the typed reason of a refusal or failure (the Reason* constants).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Reason string `json:"reason,omitempty"`
	// targetUID is the UID of the target as read before the change (a delete is made with it as
	// precondition, and a restart recognises that the object it deleted is gone).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	TargetUID string `json:"targetUID,omitempty"`
	// appliedTime is when the change was made; an operation with appliedTime set is never
	// applied again (a restart only checks its post-condition).
	// +optional
	AppliedTime *metav1.Time `json:"appliedTime,omitempty"`
	// cooldownKey names the object an applied change counts against for the per-target
	// cooldown when the target cannot carry the kubernaut.io/last-remediation annotation
	// itself: the controller of a restarted pod, or the Deployment or Namespace whose failed pods
	// were deleted, as "Kind/namespace/name".
	// +optional
	// +kubebuilder:validation:MaxLength=512
	CooldownKey string `json:"cooldownKey,omitempty"`
}

// KubernetesExecutionSpec asks the executor to run operations against the cluster.
type KubernetesExecutionSpec struct {
	// remediationRequestRef names the parent RemediationRequest.
	// +required
	RemediationRequestRef common.ObjectReference `json:"remediationRequestRef"`
	// operations to run, dependency-ordered.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=20
	Operations []common.Operation `json:"operations"`
	// executionConfig configures the execution.
	// +optional
	ExecutionConfig ExecutionConfig `json:"executionConfig,omitempty"`
}

// KubernetesExecutionStatus is written by the executor.
type KubernetesExecutionStatus struct {
	// phase of the execution.
	// +optional
	Phase Phase `json:"phase,omitempty"`
	// message explains the phase.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
	// startTime is when execution began.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// completionTime is when execution finished.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// operationResults has one entry per operation.
	// +optional
	// +kubebuilder:validation:MaxItems=20
	OperationResults []OperationResult `json:"operationResults,omitempty"`
	// observedGeneration is the generation last executed.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions describe the execution; Ready summarises it.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// KubernetesExecution runs validated operations against the cluster, safely, with rollback.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:selectablefield:JSONPath=`.status.phase`
// +kubebuilder:resource:shortName=ke,categories=kubernaut
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Remediation",type=string,JSONPath=`.spec.remediationRequestRef.name`
// +kubebuilder:printcolumn:name="Action",type=string,JSONPath=`.spec.operations[0].action`
// +kubebuilder:printcolumn:name="DryRun",type=boolean,JSONPath=`.spec.executionConfig.dryRun`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type KubernetesExecution struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the operations to run.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec is immutable"
	Spec KubernetesExecutionSpec `json:"spec"`
	// status is the execution result.
	// +optional
	Status KubernetesExecutionStatus `json:"status,omitempty"`
}

// KubernetesExecutionList is a list of KubernetesExecutions.
// +kubebuilder:object:root=true
type KubernetesExecutionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []KubernetesExecution `json:"items"`
}

func init() {
	SchemeBuilder.Register(&KubernetesExecution{}, &KubernetesExecutionList{})
}
