package v1alpha1

import (
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
