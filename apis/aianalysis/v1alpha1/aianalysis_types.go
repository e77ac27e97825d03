package v1alpha1

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
)

// Phase is the phase of an AIAnalysis.
// +kubebuilder:validation:Enum=Pending;Investigating;Recommending;Approving;Completed;Failed;Rejected
type Phase string

// Phases of an AIAnalysis.
const (
	PhasePending       Phase = "Pending"
	PhaseInvestigating Phase = "Investigating"
	PhaseRecommending  Phase = "Recommending"
	PhaseApproving     Phase = "Approving"
	PhaseCompleted     Phase = "Completed"
	PhaseFailed        Phase = "Failed"
	PhaseRejected      Phase = "Rejected"
)

// TerminalPhases are the phases an analysis never leaves (Completed, Failed, Rejected); a
// field selector on status.phase can exclude them.
func TerminalPhases() []Phase { return []Phase{PhaseCompleted, PhaseFailed, PhaseRejected} }

// IsTerminal reports whether an analysis in this phase is finished (one of TerminalPhases).
func (p Phase) IsTerminal() bool { return slices.Contains(TerminalPhases(), p) }

// Condition types and reasons of an AIAnalysis.
const (
	// ConditionReady is True once recommendations are final (approved when approval was required).
	ConditionReady = common.ConditionReady
	// ConditionApprovalRequired is True while a human decision is needed.
	ConditionApprovalRequired = "ApprovalRequired"

	ReasonAnalyzed           = "Analyzed"
	ReasonNoActionRequired   = "NoActionRequired"
	ReasonAwaitingDecision   = "AwaitingDecision"
	ReasonApproved           = "Approved"
	ReasonRejected           = "Rejected"
	ReasonApprovalExpired    = "ApprovalExpired"
	ReasonProviderFailed     = "ProviderFailed"
	ReasonInvalidRecommended = "InvalidRecommendation"
	// ReasonInvestigating is the Ready reason while the provider investigates.
	ReasonInvestigating = "Investigating"
	// ReasonManualReviewRequired is the Ready reason of a Completed analysis that recommends no
	// action because the facts do not explain the signal, or because every recommendation was
	// refused by the guardrails; status.manualReviewReason says why.
	ReasonManualReviewRequired = "ManualReviewRequired"
	// ReasonNotRequired is the ApprovalRequired reason when the approval policy lets the
	// recommendation through without a human.
	ReasonNotRequired = "NotRequired"
)

// Outcome is what the analysis concluded.
// +kubebuilder:validation:Enum=ActionRecommended;NoActionRequired;ManualReviewRequired
type Outcome string

// Outcomes of an analysis.
const (
	// OutcomeActionRecommended: recommendations[0] has workflow steps to plan.
	OutcomeActionRecommended Outcome = "ActionRecommended"
	// OutcomeNoActionRequired: nothing is wrong that an action should fix.
	OutcomeNoActionRequired Outcome = "NoActionRequired"
	// OutcomeManualReviewRequired: no action is recommended; a person must look (see manualReviewReason).
	OutcomeManualReviewRequired Outcome = "ManualReviewRequired"
)

// RefusalReason is why a guardrail refused a recommendation.
// +kubebuilder:validation:Enum=UnknownAction;InvalidParameters;TargetKindNotAccepted;TargetOtherNamespace;TargetNotInContext;TargetControlledElsewhere;MalformedAnswer
type RefusalReason string

// Guardrail refusal reasons.
const (
	RefusalUnknownAction         RefusalReason = "UnknownAction"
	RefusalInvalidParameters     RefusalReason = "InvalidParameters"
	RefusalTargetKindNotAccepted RefusalReason = "TargetKindNotAccepted"
	RefusalTargetOtherNamespace  RefusalReason = "TargetOtherNamespace"
	RefusalTargetNotInContext    RefusalReason = "TargetNotInContext"
	RefusalMalformedAnswer       RefusalReason = "MalformedAnswer"

	// RefusalTargetControlled: the step changes a workload that another controller (an
	// operator's resource, in the owner chain) controls and would put back.
	RefusalTargetControlled RefusalReason = "TargetControlledElsewhere"
)

// GuardrailRefusal records one recommendation (or step) the guardrails refused.
type GuardrailRefusal struct {
	// attempt is the provider answer the refusal applies to: 1 for the first, 2 for the retry.
	// +optional
	Attempt int32 `json:"attempt,omitempty"`
	// reason of the refusal.
	// +required
	Reason RefusalReason `json:"reason"`
	// action the model proposed.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Action string `json:"action,omitempty"`
	// target the model proposed, as kind/namespace/name.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Target string `json:"target,omitempty"`
	// message says what was wrong.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
}

// RiskLevel is the risk of a recommended action.
// +kubebuilder:validation:Enum=low;medium;high
type RiskLevel string

// Risk levels.
const (
	RiskLow    RiskLevel = "low"
	RiskMedium RiskLevel = "medium"
	RiskHigh   RiskLevel = "high"
)

// AnalysisType is one kind of analysis to run.
// +kubebuilder:validation:Enum=investigation;root-cause;recovery-analysis
type AnalysisType string

// CorrelationDepth is how far the investigation correlates related resources.
// +kubebuilder:validation:Enum=basic;detailed;comprehensive
type CorrelationDepth string

// SignalContext is the data snapshot of the enriched signal.
type SignalContext struct {
	// fingerprint of the signal.
	// +required
	Fingerprint string `json:"fingerprint"`
	// signalName is the alert name or event reason.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	SignalName string `json:"signalName,omitempty"`
	// severity of the signal.
	// +required
	Severity string `json:"severity"`
	// environment of the target.
	// +required
	Environment string `json:"environment"`
	// businessPriority of the remediation.
	// +required
	BusinessPriority string `json:"businessPriority"`
	// namespace of the target.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// resourceKind of the target.
	// +required
	ResourceKind string `json:"resourceKind"`
	// resourceName of the target.
	// +required
	ResourceName string `json:"resourceName"`
	// kubernetesContext is the bounded Kubernetes context (about 8 KB).
	// +optional
	KubernetesContext *common.KubernetesContext `json:"kubernetesContext,omitempty"`
	// signalLabels are the alert's labels as the gateway received them (for example "reason" and
	// "container" of kube-state-metrics alerts), which select the rules that may apply.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	SignalLabels map[string]string `json:"signalLabels,omitempty"`
	// firingTime is when the signal started firing (the alert's startsAt); evidence is weighed
	// relative to it.
	// +optional
	FiringTime *metav1.Time `json:"firingTime,omitempty"`
	// namedTarget is the object the alert's labels named before the gateway followed its owners
	// (for example the Pod of a crash-looping Deployment).
	// +optional
	NamedTarget *common.TargetResource `json:"namedTarget,omitempty"`
}

// ResourceScopeItem is one resource the investigation looks at.
type ResourceScopeItem struct {
	// kind of the resource.
	// +required
	Kind string `json:"kind"`
	// namespace of the resource.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// name of the resource.
	// +required
	Name string `json:"name"`
}

// InvestigationScope bounds the investigation.
type InvestigationScope struct {
	// timeWindow is how far back the investigation looks, for example "24h".
	// +optional
	// +kubebuilder:default="24h"
	TimeWindow string `json:"timeWindow,omitempty"`
	// resourceScope lists the resources to investigate.
	// +optional
	// +kubebuilder:validation:MaxItems=10
	ResourceScope []ResourceScopeItem `json:"resourceScope,omitempty"`
	// correlationDepth is how far related resources are correlated.
	// +optional
	// +kubebuilder:default=detailed
	CorrelationDepth CorrelationDepth `json:"correlationDepth,omitempty"`
	// includeHistoricalPatterns asks for historical success rates of actions.
	// +optional
	IncludeHistoricalPatterns bool `json:"includeHistoricalPatterns,omitempty"`
}

// AnalysisRequest is what to analyse.
type AnalysisRequest struct {
	// alertContext is the enriched signal.
	// +required
	AlertContext SignalContext `json:"alertContext"`
	// analysisTypes lists the analyses to run.
	// +optional
	// +kubebuilder:validation:MaxItems=3
	// +listType=set
	AnalysisTypes []AnalysisType `json:"analysisTypes,omitempty"`
	// investigationScope bounds the investigation.
	// +optional
	InvestigationScope InvestigationScope `json:"investigationScope,omitempty"`
}

// HolmesGPTConfig configures the investigation provider; filled by the aianalysis controller.
type HolmesGPTConfig struct {
	// endpoint of the provider.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Endpoint string `json:"endpoint,omitempty"`
	// model the provider uses.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Model string `json:"model,omitempty"`
	// toolsets the provider may use.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	Toolsets []string `json:"toolsets,omitempty"`
}

// AIAnalysisSpec asks the aianalysis service to investigate a signal and recommend actions.
type AIAnalysisSpec struct {
	// remediationRequestRef names the parent RemediationRequest.
	// +required
	RemediationRequestRef common.ObjectReference `json:"remediationRequestRef"`
	// analysisRequest is what to analyse.
	// +required
	AnalysisRequest AnalysisRequest `json:"analysisRequest"`
	// holmesGPTConfig is filled by the aianalysis controller from its defaults.
	// +optional
	HolmesGPTConfig *HolmesGPTConfig `json:"holmesGPTConfig,omitempty"`
}

// Recommendation is one recommended remediation.
type Recommendation struct {
	// id of the recommendation, unique within the analysis.
	// +required
	// +kubebuilder:validation:MaxLength=63
	ID string `json:"id"`
	// action is the main catalog action.
	// +required
	// +kubebuilder:validation:MaxLength=63
	Action string `json:"action"`
	// description of the recommendation for people.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Description string `json:"description,omitempty"`
	// confidence in the recommendation, 0 to 1.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1
	Confidence float64 `json:"confidence"`
	// riskLevel of the recommendation.
	// +required
	RiskLevel RiskLevel `json:"riskLevel"`
	// rationale explains why the action should help.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	Rationale string `json:"rationale,omitempty"`
	// historicalSuccessRate of the action for this signal, 0 to 1, when known.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1
	HistoricalSuccessRate *float64 `json:"historicalSuccessRate,omitempty"`
	// workflowSteps implement the recommendation.
	// +optional
	// +kubebuilder:validation:MaxItems=20
	WorkflowSteps []common.WorkflowStep `json:"workflowSteps,omitempty"`
}

// Decision is a human's answer to an approval request.
// +kubebuilder:validation:Enum="";Approved;Rejected;Expired
type Decision string

// Decisions.
const (
	DecisionNone     Decision = ""
	DecisionApproved Decision = "Approved"
	DecisionRejected Decision = "Rejected"
	DecisionExpired  Decision = "Expired"
)

// ApprovalStatus records whether and how the recommendations were approved.
type ApprovalStatus struct {
	// required is true when policy requires a human decision.
	// +optional
	Required bool `json:"required,omitempty"`
	// reason explains why approval is required.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Reason string `json:"reason,omitempty"`
	// approvalRequestRef names the AIApprovalRequest.
	// +optional
	ApprovalRequestRef *common.ObjectReference `json:"approvalRequestRef,omitempty"`
	// decision taken.
	// +optional
	Decision Decision `json:"decision,omitempty"`
	// decidedBy is who decided.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	DecidedBy string `json:"decidedBy,omitempty"`
	// decidedAt is when the decision was taken.
	// +optional
	DecidedAt *metav1.Time `json:"decidedAt,omitempty"`
}

// AIAnalysisStatus is written by the aianalysis service.
type AIAnalysisStatus struct {
	// phase of the analysis.
	// +optional
	Phase Phase `json:"phase,omitempty"`
	// message explains the phase.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
	// startTime is when the analysis began.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// completionTime is when the analysis finished.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// rootCause found by the investigation.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	RootCause string `json:"rootCause,omitempty"`
	// investigationSummary for people.
	// +optional
	// +kubebuilder:validation:MaxLength=8192
	InvestigationSummary string `json:"investigationSummary,omitempty"`
	// evidence supporting the root cause.
	// +optional
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MaxLength=1024
	Evidence []string `json:"evidence,omitempty"`
	// confidence in the root cause, 0 to 1.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1
	Confidence float64 `json:"confidence,omitempty"`
	// recommendations, best first; the rest are alternatives.
	// +optional
	// +kubebuilder:validation:MaxItems=10
	Recommendations []Recommendation `json:"recommendations,omitempty"`
	// approval records the approval policy's decision and the human's.
	// +optional
	Approval *ApprovalStatus `json:"approval,omitempty"`
	// outcome is what the analysis concluded: ActionRecommended, NoActionRequired or ManualReviewRequired.
	// +optional
	Outcome Outcome `json:"outcome,omitempty"`
	// manualReviewReason says, when the outcome is ManualReviewRequired, why no action is
	// recommended (what the facts showed and what could not be explained, or what was refused).
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	ManualReviewReason string `json:"manualReviewReason,omitempty"`
	// riskLevel of acting on the top recommendation (low when nothing is recommended).
	// +optional
	RiskLevel RiskLevel `json:"riskLevel,omitempty"`
	// refusals lists what the guardrails refused in the provider's answers.
	// +optional
	// +kubebuilder:validation:MaxItems=10
	Refusals []GuardrailRefusal `json:"refusals,omitempty"`
	// tokensUsed is the number of LLM tokens the investigation used, when the provider reports it.
	// +optional
	TokensUsed int64 `json:"tokensUsed,omitempty"`
	// provider that produced the analysis (builtin, holmesgpt, openai).
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Provider string `json:"provider,omitempty"`
	// observedGeneration is the generation last analysed.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions describe the analysis; Ready summarises it.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// AIAnalysis investigates a signal and recommends remediation actions.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:selectablefield:JSONPath=`.status.phase`
// +kubebuilder:resource:shortName=aia,categories=kubernaut
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Remediation",type=string,JSONPath=`.spec.remediationRequestRef.name`
// +kubebuilder:printcolumn:name="Action",type=string,JSONPath=`.status.recommendations[0].action`
// +kubebuilder:printcolumn:name="Confidence",type=number,JSONPath=`.status.confidence`
// +kubebuilder:printcolumn:name="Outcome",type=string,JSONPath=`.status.outcome`
// +kubebuilder:printcolumn:name="Approval",type=string,JSONPath=`.status.approval.decision`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type AIAnalysis struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is what to analyse.
	// +required
	Spec AIAnalysisSpec `json:"spec"`
	// status is the analysis result.
	// +optional
	Status AIAnalysisStatus `json:"status,omitempty"`
}

// AIAnalysisList is a list of AIAnalyses.
// +kubebuilder:object:root=true
type AIAnalysisList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AIAnalysis `json:"items"`
}

func init() {
	SchemeBuilder.Register(&AIAnalysis{}, &AIAnalysisList{})
}
