package v1alpha1

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
)

// Phase is the phase of a WorkflowExecution.
// +kubebuilder:validation:Enum=Pending;Planning;Validating;Completed;Failed
type Phase string

// Phases of a WorkflowExecution.
const (
	PhasePending    Phase = "Pending"
	PhasePlanning   Phase = "Planning"
	PhaseValidating Phase = "Validating"
	PhaseCompleted  Phase = "Completed"
	PhaseFailed     Phase = "Failed"
)

// Condition types and reasons of a WorkflowExecution.
const (
	// ConditionReady is True once the operations are planned and validated.
	ConditionReady = common.ConditionReady

	ReasonPlanned          = "Planned"
	ReasonInvalidWorkflow  = "InvalidWorkflow"
	ReasonDependencyCycle  = "DependencyCycle"
	ReasonUnknownAction    = "UnknownAction"
	ReasonTargetNotFound   = "TargetNotFound"
	ReasonWorkflowTimedOut = "WorkflowTimedOut"

	// ReasonPlanning and ReasonValidating: Ready is False while the workflow is being planned,
	// then checked against the cluster.
	ReasonPlanning   = "Planning"
	ReasonValidating = "Validating"
	// ReasonValidated: every operation was checked against the live cluster (Ready True).
	ReasonValidated = "Validated"
	// ReasonInvalidParameters: a step's parameters fail the action catalog's validation.
	ReasonInvalidParameters = "InvalidParameters"
	// ReasonUnsupportedTarget: a step's target is of a kind its action does not accept, or a
	// step has no target and the workflow no targetResource.
	ReasonUnsupportedTarget = "UnsupportedTarget"
	// ReasonExceedsWorkflowTimeout: the longest chain of step timeouts, run with
	// concurrencyLimit steps at once, does not fit in workflowTimeout.
	ReasonExceedsWorkflowTimeout = "ExceedsWorkflowTimeout"
	// ReasonTargetMismatch: the target exists but the action has nothing to act on in it (a
	// container that does not exist, no earlier revision to roll back to, a taint that is not
	// there, a Node without Pods to drain).
	ReasonTargetMismatch = "TargetMismatch"
	// ReasonPermissionDenied: the executor's ServiceAccount may not use a verb the action needs.
	ReasonPermissionDenied = "PermissionDenied"
	// ReasonDryRunRejected: the API server refused the server-side dry-run of the change.
	ReasonDryRunRejected = "DryRunRejected"
	// ReasonStaleTarget: the workload the analysis examined was changed since (a person rolled it
	// forward or back while the request awaited approval): the recommendation was made for a
	// state that no longer runs, so nothing is planned against it and a person must review it.
	ReasonStaleTarget = "StaleTarget"
	// ReasonTargetControlled: the workload or HPA has a controller of its own (an operator's
	// resource), which would undo the change: nothing is planned against it and a person must
	// change that resource instead.
	ReasonTargetControlled = "TargetControlledElsewhere"
)

// CheckType names one check of a step against the live cluster.
// +kubebuilder:validation:Enum=TargetExists;TargetResolves;Permission;DryRun
type CheckType string

// The checks of a step, in the order they run.
const (
	// CheckTargetExists: the target exists; its UID and resourceVersion go into the operation.
	CheckTargetExists CheckType = "TargetExists"
	// CheckTargetResolves: the target has what the action touches (a drain's Pods, a rollback's
	// earlier revision, a resource change's containers).
	CheckTargetResolves CheckType = "TargetResolves"
	// CheckPermission: SubjectAccessReviews of the executor's ServiceAccount for the action's verbs.
	CheckPermission CheckType = "Permission"
	// CheckDryRun: the server-side dry-run of the executor's call.
	CheckDryRun CheckType = "DryRun"
)

// WorkflowDefinition is the workflow to plan.
type WorkflowDefinition struct {
	// steps of the workflow.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=20
	Steps []common.WorkflowStep `json:"steps"`
}

// ExecutionConfig configures planning and execution of the workflow.
type ExecutionConfig struct {
	// dryRun plans and validates without changing anything.
	// +optional
	DryRun bool `json:"dryRun,omitempty"`
	// stepTimeout is the default timeout of a step.
	// +optional
	// +kubebuilder:default="5m"
	StepTimeout *metav1.Duration `json:"stepTimeout,omitempty"`
	// workflowTimeout bounds the whole workflow.
	// +optional
	// +kubebuilder:default="20m"
	WorkflowTimeout *metav1.Duration `json:"workflowTimeout,omitempty"`
	// concurrencyLimit is how many steps may run at once.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10
	ConcurrencyLimit int32 `json:"concurrencyLimit,omitempty"`
}

// ValidationResult is the validation outcome of one step.
type ValidationResult struct {
	// step is the step's name.
	// +required
	Step string `json:"step"`
	// valid reports whether the step passed validation.
	Valid bool `json:"valid"`
	// message lists the problems found.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Message string `json:"message,omitempty"`
	// reason is the first problem's typed reason (the Ready condition reasons above); empty
	// when the step is valid.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Reason string `json:"reason,omitempty"`
	// checks are the step's checks against the live cluster, in the order they ran; a failed
	// TargetExists or TargetResolves ends the list (there is nothing left to check), a failed
	// Permission does not (the dry-run still shows whether the change itself is accepted).
	// +optional
	// +kubebuilder:validation:MaxItems=8
	Checks []Check `json:"checks,omitempty"`
	// diff is what the step's server-side dry-run would change in the target, field by field
	// (server-managed fields and status left out), so that a person approving or auditing sees
	// exactly what will change.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	Diff []FieldChange `json:"diff,omitempty"`
	// diffOmitted counts the changed fields left out of diff to keep the status bounded.
	// +optional
	DiffOmitted int32 `json:"diffOmitted,omitempty"`
}

// Check is the result of one check of a step against the live cluster.
type Check struct {
	// type of the check.
	// +required
	Type CheckType `json:"type"`
	// passed reports whether the check passed.
	Passed bool `json:"passed"`
	// message says what was checked and found.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
}

// FieldChange is one field a change sets, removes or replaces.
type FieldChange struct {
	// path of the field from the object's root, for example
	// spec.template.spec.containers[name=app].resources.limits.memory.
	// +required
	// +kubebuilder:validation:MaxLength=512
	Path string `json:"path"`
	// before is the JSON encoding of the value before the change; empty when absent.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Before string `json:"before,omitempty"`
	// after is the JSON encoding of the value after the change; empty when removed.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	After string `json:"after,omitempty"`
}

// WorkflowExecutionSpec asks the workflow service to plan and validate a workflow.
type WorkflowExecutionSpec struct {
	// remediationRequestRef names the parent RemediationRequest.
	// +required
	RemediationRequestRef common.ObjectReference `json:"remediationRequestRef"`
	// targetResource is the signal's target, the default target of steps.
	// +optional
	TargetResource *common.TargetResource `json:"targetResource,omitempty"`
	// workflowDefinition is the workflow to plan.
	// +required
	WorkflowDefinition WorkflowDefinition `json:"workflowDefinition"`
	// executionConfig configures planning and execution.
	// +optional
	ExecutionConfig ExecutionConfig `json:"executionConfig,omitempty"`
	// analyzedTarget is the workload the analysis examined and the state it had then (for a
	// Deployment, its revision and pod-template-hash when processing read it). Validation
	// refuses an operation on that workload (StaleTarget) when its live state differs, so that a
	// change a person made while the request awaited approval is never undone by a plan made
	// for the state before it.
	// +optional
	AnalyzedTarget *AnalyzedTarget `json:"analyzedTarget,omitempty"`
}

// AnalyzedTarget is a workload and its state when the analysis read it.
type AnalyzedTarget struct {
	// kind of the workload (Deployment).
	// +required
	// +kubebuilder:validation:MaxLength=63
	Kind string `json:"kind"`
	// namespace of the workload.
	// +required
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace"`
	// name of the workload.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// preconditions are its state when the analysis read it (only what was recorded is compared).
	// +required
	Preconditions common.Preconditions `json:"preconditions"`
}

// WorkflowExecutionStatus is written by the workflow service.
type WorkflowExecutionStatus struct {
	// phase of the workflow.
	// +optional
	Phase Phase `json:"phase,omitempty"`
	// message explains the phase.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
	// startTime is when planning began.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// completionTime is when planning finished.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// operations are the validated, dependency-ordered operations with resolved targets.
	// +optional
	// +kubebuilder:validation:MaxItems=20
	Operations []common.Operation `json:"operations,omitempty"`
	// validationResults has one entry per step.
	// +optional
	// +kubebuilder:validation:MaxItems=20
	ValidationResults []ValidationResult `json:"validationResults,omitempty"`
	// dryRun is true when the workflow was planned and validated for a dry run: the
	// operations will be dry-run by the executor and nothing will be changed.
	// +optional
	DryRun bool `json:"dryRun,omitempty"`
	// estimatedDuration is the longest the operations may take: the critical path of their
	// timeouts with concurrencyLimit operations at once (at most workflowTimeout).
	// +optional
	EstimatedDuration *metav1.Duration `json:"estimatedDuration,omitempty"`
	// observedGeneration is the generation last planned.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions describe the workflow; Ready summarises it.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// WorkflowExecution plans and validates the steps of a remediation.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:selectablefield:JSONPath=`.status.phase`
// +kubebuilder:resource:shortName=wfe,categories=kubernaut
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Remediation",type=string,JSONPath=`.spec.remediationRequestRef.name`
// +kubebuilder:printcolumn:name="DryRun",type=boolean,JSONPath=`.spec.executionConfig.dryRun`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type WorkflowExecution struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the workflow.
	// +required
	Spec WorkflowExecutionSpec `json:"spec"`
	// status is the plan.
	// +optional
	Status WorkflowExecutionStatus `json:"status,omitempty"`
}

// WorkflowExecutionList is a list of WorkflowExecutions.
// +kubebuilder:object:root=true
type WorkflowExecutionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []WorkflowExecution `json:"items"`
}

func init() {
	SchemeBuilder.Register(&WorkflowExecution{}, &WorkflowExecutionList{})
}

// TerminalPhases are the phases a workflow never leaves (Completed, Failed); a
// field selector on status.phase can exclude them.
func TerminalPhases() []Phase { return []Phase{PhaseCompleted, PhaseFailed} }

// IsTerminal reports whether a workflow in this phase is finished (one of TerminalPhases).
func (p Phase) IsTerminal() bool { return slices.Contains(TerminalPhases(), p) }
