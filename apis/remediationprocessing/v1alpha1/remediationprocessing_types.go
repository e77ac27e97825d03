package v1alpha1

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
)

// Phase is the phase of a RemediationProcessing.
// +kubebuilder:validation:Enum=Pending;Enriching;Classifying;Completed;Failed
type Phase string

// Phases of a RemediationProcessing.
const (
	PhasePending     Phase = "Pending"
	PhaseEnriching   Phase = "Enriching"
	PhaseClassifying Phase = "Classifying"
	PhaseCompleted   Phase = "Completed"
	PhaseFailed      Phase = "Failed"
)

// TerminalPhases are the phases a processing never leaves (Completed, Failed); a
// field selector on status.phase can exclude them.
func TerminalPhases() []Phase { return []Phase{PhaseCompleted, PhaseFailed} }

// IsTerminal reports whether a processing in this phase is finished (one of TerminalPhases).
func (p Phase) IsTerminal() bool { return slices.Contains(TerminalPhases(), p) }

// Condition types and reasons of a RemediationProcessing.
const (
	// ConditionReady is True once the signal is enriched and classified.
	ConditionReady = common.ConditionReady

	ReasonEnriched       = "Enriched"
	ReasonTargetNotFound = "TargetNotFound"
	ReasonEnrichFailed   = "EnrichmentFailed"
	ReasonInProgress     = "InProgress"
	// ReasonEnrichmentTimedOut: the reads of the enrichment did not finish within the
	// processing service's --enrichment-timeout (Failed).
	ReasonEnrichmentTimedOut = "EnrichmentTimedOut"
)

// Reasons of the events the processing service records about its policy ConfigMap.
const (
	// EventReasonPolicyLoaded: a new classification policy was loaded (Normal).
	EventReasonPolicyLoaded = "PolicyLoaded"
	// EventReasonPolicyInvalid: the policy was refused; the last good one stays in force (Warning).
	EventReasonPolicyInvalid = "PolicyInvalid"
)

// EnvironmentSource says where the environment of an enriched signal came from.
// +kubebuilder:validation:Enum=NamespaceLabel;NamespaceEnvLabel;SignalLabel;PolicyOverride;NamespaceName;Default
type EnvironmentSource string

// Environment sources, in the order processing consults them.
const (
	// EnvironmentFromNamespaceLabel: the namespace label kubernaut.io/environment.
	EnvironmentFromNamespaceLabel EnvironmentSource = "NamespaceLabel"
	// EnvironmentFromNamespaceEnvLabel: the namespace label environment or env.
	EnvironmentFromNamespaceEnvLabel EnvironmentSource = "NamespaceEnvLabel"
	// EnvironmentFromSignalLabel: the signal's own label (kubernaut.io/environment, environment or env).
	EnvironmentFromSignalLabel EnvironmentSource = "SignalLabel"
	// EnvironmentFromPolicyOverride: the policy ConfigMap's namespace overrides.
	EnvironmentFromPolicyOverride EnvironmentSource = "PolicyOverride"
	// EnvironmentFromNamespaceName: a pattern in the namespace name (prod, staging, stg, dev, test).
	EnvironmentFromNamespaceName EnvironmentSource = "NamespaceName"
	// EnvironmentFromDefault: nothing matched; the environment is unknown.
	EnvironmentFromDefault EnvironmentSource = "Default"
)

// Alert is the data snapshot of the signal that processing enriches.
type Alert struct {
	// fingerprint of the signal.
	// +required
	// +kubebuilder:validation:Pattern=`^[a-f0-9]{64}$`
	Fingerprint string `json:"fingerprint"`
	// payload is the original signal payload.
	// +optional
	// +kubebuilder:validation:MaxLength=65536
	Payload []byte `json:"payload,omitempty"`
	// severity of the signal.
	// +required
	// +kubebuilder:validation:Enum=critical;warning;info
	Severity string `json:"severity"`
	// signalName is the alert name or event reason.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	SignalName string `json:"signalName"`
	// environment the gateway derived.
	// +optional
	// +kubebuilder:validation:Enum=production;staging;development;test;unknown
	Environment string `json:"environment,omitempty"`
	// priority the gateway derived.
	// +optional
	// +kubebuilder:validation:Enum=P0;P1;P2;P3
	Priority string `json:"priority,omitempty"`
	// labels of the signal.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Labels map[string]string `json:"labels,omitempty"`
	// annotations of the signal.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Annotations map[string]string `json:"annotations,omitempty"`
	// targetResource is the signal's target.
	// +required
	TargetResource common.TargetResource `json:"targetResource"`
}

// RemediationProcessingSpec asks the processing service to enrich and classify a signal.
type RemediationProcessingSpec struct {
	// remediationRequestRef names the parent RemediationRequest.
	// +required
	RemediationRequestRef common.ObjectReference `json:"remediationRequestRef"`
	// alert is the data snapshot of the signal.
	// +required
	Alert Alert `json:"alert"`
}

// EnrichedSignal is the signal with its Kubernetes context and classification.
type EnrichedSignal struct {
	// fingerprint of the signal.
	// +required
	Fingerprint string `json:"fingerprint"`
	// severity of the signal.
	// +required
	Severity string `json:"severity"`
	// environment classified from the namespace.
	// +required
	Environment string `json:"environment"`
	// businessPriority (P0–P3) classified from severity and environment.
	// +required
	BusinessPriority string `json:"businessPriority"`
	// environmentSource says which source decided the environment.
	// +optional
	EnvironmentSource EnvironmentSource `json:"environmentSource,omitempty"`
	// priorityRule says which policy rule decided the business priority, for example
	// "table:critical/production", "rule:payments-critical" or "table:warning/staging+criticality:high".
	// +optional
	// +kubebuilder:validation:MaxLength=256
	PriorityRule string `json:"priorityRule,omitempty"`
	// policyVersion is the resourceVersion of the policy ConfigMap that classified the signal
	// ("default" for the built-in policy).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	PolicyVersion string `json:"policyVersion,omitempty"`
	// contextBytes is the size of the serialized kubernetesContext.
	// +optional
	ContextBytes int32 `json:"contextBytes,omitempty"`
	// namespace of the target.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// resourceKind of the target.
	// +required
	ResourceKind string `json:"resourceKind"`
	// resourceName of the target.
	// +required
	ResourceName string `json:"resourceName"`
	// kubernetesContext is the bounded Kubernetes context of the target.
	// +optional
	KubernetesContext *common.KubernetesContext `json:"kubernetesContext,omitempty"`
}

// RemediationProcessingStatus is written by the processing service.
type RemediationProcessingStatus struct {
	// phase of the processing.
	// +optional
	Phase Phase `json:"phase,omitempty"`
	// message explains the phase.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
	// startTime is when processing began.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// completionTime is when processing finished.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// enrichedSignal is the result, set when Completed.
	// +optional
	EnrichedSignal *EnrichedSignal `json:"enrichedSignal,omitempty"`
	// observedGeneration is the generation last processed.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions describe the processing; Ready summarises it.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// RemediationProcessing enriches and classifies one signal.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:selectablefield:JSONPath=`.status.phase`
// +kubebuilder:resource:shortName=rp,categories=kubernaut
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Remediation",type=string,JSONPath=`.spec.remediationRequestRef.name`
// +kubebuilder:printcolumn:name="Environment",type=string,JSONPath=`.status.enrichedSignal.environment`
// +kubebuilder:printcolumn:name="Priority",type=string,JSONPath=`.status.enrichedSignal.businessPriority`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type RemediationProcessing struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the signal to process.
	// +required
	Spec RemediationProcessingSpec `json:"spec"`
	// status is the processing result.
	// +optional
	Status RemediationProcessingStatus `json:"status,omitempty"`
}

// RemediationProcessingList is a list of RemediationProcessings.
// +kubebuilder:object:root=true
type RemediationProcessingList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RemediationProcessing `json:"items"`
}

func init() {
	SchemeBuilder.Register(&RemediationProcessing{}, &RemediationProcessingList{})
}
