package v1alpha1

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
)

// Severity is the normalised severity of a signal.
// +kubebuilder:validation:Enum=critical;warning;info
type Severity string

// Severities.
const (
	SeverityCritical Severity = "critical"
	SeverityWarning  Severity = "warning"
	SeverityInfo     Severity = "info"
)

// Environment is the environment class of the signal's namespace.
// +kubebuilder:validation:Enum=production;staging;development;test;unknown
type Environment string

// Environments.
const (
	EnvironmentProduction  Environment = "production"
	EnvironmentStaging     Environment = "staging"
	EnvironmentDevelopment Environment = "development"
	EnvironmentTest        Environment = "test"
	EnvironmentUnknown     Environment = "unknown"
)

// Priority is the business priority of a remediation, P0 (most urgent) to P3.
// +kubebuilder:validation:Enum=P0;P1;P2;P3
type Priority string

// Priorities.
const (
	PriorityP0 Priority = "P0"
	PriorityP1 Priority = "P1"
	PriorityP2 Priority = "P2"
	PriorityP3 Priority = "P3"
)

// SignalType says where a signal came from.
// +kubebuilder:validation:Enum=prometheus-alert;kubernetes-event
type SignalType string

// Signal types.
const (
	SignalTypePrometheusAlert SignalType = "prometheus-alert"
	SignalTypeKubernetesEvent SignalType = "kubernetes-event"
)

// Phase is the overall phase of a RemediationRequest.
// +kubebuilder:validation:Enum=Pending;Processing;Analyzing;AwaitingApproval;Planning;Executing;Verifying;Completed;Failed;TimedOut;Blocked;Skipped
type Phase string

// Phases of a RemediationRequest.
const (
	PhasePending          Phase = "Pending"
	PhaseProcessing       Phase = "Processing"
	PhaseAnalyzing        Phase = "Analyzing"
	PhaseAwaitingApproval Phase = "AwaitingApproval"
	PhasePlanning         Phase = "Planning"
	PhaseExecuting        Phase = "Executing"
	PhaseVerifying        Phase = "Verifying"
	PhaseCompleted        Phase = "Completed"
	PhaseFailed           Phase = "Failed"
	PhaseTimedOut         Phase = "TimedOut"
	PhaseBlocked          Phase = "Blocked"
	PhaseSkipped          Phase = "Skipped"
)

// TerminalPhases are the phases a request never leaves; a field selector on
// status.overallPhase can exclude them.
func TerminalPhases() []Phase {
	return []Phase{PhaseCompleted, PhaseFailed, PhaseTimedOut, PhaseSkipped}
}

// IsTerminal reports whether a request in this phase is finished (one of TerminalPhases).
func (p Phase) IsTerminal() bool { return slices.Contains(TerminalPhases(), p) }

// Outcome is how a finished remediation ended.
// +kubebuilder:validation:Enum=Remediated;Ineffective;Inconclusive;NoActionRequired;ManualReviewRequired;Rejected;DryRun
type Outcome string

// Outcomes.
const (
	OutcomeRemediated  Outcome = "Remediated"
	OutcomeIneffective Outcome = "Ineffective"
	// OutcomeInconclusive: the change was made, but neither the alert nor the cluster showed
	// whether it helped within the verification window.
	OutcomeInconclusive         Outcome = "Inconclusive"
	OutcomeNoActionRequired     Outcome = "NoActionRequired"
	OutcomeManualReviewRequired Outcome = "ManualReviewRequired"
	OutcomeRejected             Outcome = "Rejected"
	OutcomeDryRun               Outcome = "DryRun"
)

// Labels the gateway sets on every RemediationRequest.
const (
	// LabelSignalFingerprint holds the first 63 characters of spec.signalFingerprint.
	LabelSignalFingerprint = "kubernaut.io/signal-fingerprint"
	// LabelSeverity holds spec.severity.
	LabelSeverity = "kubernaut.io/severity"
	// LabelEnvironment holds spec.environment.
	LabelEnvironment = "kubernaut.io/environment"
)

// Condition types and reasons of a RemediationRequest.
const (
	// ConditionReady summarises the request: True when it completed, False while running or after a failure.
	ConditionReady = common.ConditionReady
	// ConditionAudited is True when datastorage has acknowledged the current phase.
	ConditionAudited = "Audited"

	ReasonInProgress          = "InProgress"
	ReasonRemediated          = "Remediated"
	ReasonChildFailed         = "ChildFailed"
	ReasonChildInvalid        = "ChildInvalid" // the API server refused a child as invalid: retrying cannot help
	ReasonPhaseTimedOut       = "PhaseTimedOut"
	ReasonRejected            = "Rejected"
	ReasonConcurrencyLimit    = "ConcurrencyLimit"
	ReasonConsecutiveFailures = "ConsecutiveFailures"
	ReasonAuditAcknowledged   = "AuditAcknowledged"
	ReasonAuditPending        = "AuditPending"
)

// ProviderData carries the provider-specific context of a signal.
type ProviderData struct {
	// namespace of the signal's target.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
	// resource is the signal's target as the provider named it.
	// +optional
	Resource *common.TargetResource `json:"resource,omitempty"`
	// alertmanagerURL links to the Alertmanager that sent the signal (its externalURL).
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	AlertmanagerURL string `json:"alertmanagerURL,omitempty"`
	// grafanaURL links to a dashboard for the signal, from the alert's annotations.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	GrafanaURL string `json:"grafanaURL,omitempty"`
}

// Timeouts overrides the orchestrator's default timeouts for one request.
type Timeouts struct {
	// processing bounds the Processing phase (default 5m).
	// +optional
	Processing *metav1.Duration `json:"processing,omitempty"`
	// analysis bounds the Analyzing phase (default 10m).
	// +optional
	Analysis *metav1.Duration `json:"analysis,omitempty"`
	// awaitingApproval bounds the AwaitingApproval phase (default 15m).
	// +optional
	AwaitingApproval *metav1.Duration `json:"awaitingApproval,omitempty"`
	// planning bounds the Planning phase (default 20m).
	// +optional
	Planning *metav1.Duration `json:"planning,omitempty"`
	// execution bounds the Executing phase (default 10m).
	// +optional
	Execution *metav1.Duration `json:"execution,omitempty"`
	// overall bounds the whole remediation (default 1h).
	// +optional
	Overall *metav1.Duration `json:"overall,omitempty"`
}

// RemediationRequestSpec is the signal as the gateway received it. It is immutable.
type RemediationRequestSpec struct {
	// signalFingerprint is the SHA-256 (64 lowercase hex characters) of the resolved target identity.
	// +required
	// +kubebuilder:validation:Pattern=`^[a-f0-9]{64}$`
	SignalFingerprint string `json:"signalFingerprint"`
	// signalName is the alert name or event reason.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	SignalName string `json:"signalName"`
	// severity is the normalised severity.
	// +required
	Severity Severity `json:"severity"`
	// environment is the environment of the target's namespace.
	// +required
	Environment Environment `json:"environment"`
	// priority is derived from severity and environment.
	// +required
	Priority Priority `json:"priority"`
	// signalType says which gateway endpoint received the signal.
	// +required
	SignalType SignalType `json:"signalType"`
	// signalSource names the sender, for example the Alertmanager receiver.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	SignalSource string `json:"signalSource,omitempty"`
	// targetResource is the resolved target (Pods are resolved to their top-level controller).
	// +required
	TargetResource common.TargetResource `json:"targetResource"`
	// firingTime is when the signal started firing.
	// +required
	FiringTime metav1.Time `json:"firingTime"`
	// receivedTime is when the gateway received the signal.
	// +required
	ReceivedTime metav1.Time `json:"receivedTime"`
	// signalLabels are the signal's labels.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	SignalLabels map[string]string `json:"signalLabels,omitempty"`
	// signalAnnotations are the signal's annotations.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	SignalAnnotations map[string]string `json:"signalAnnotations,omitempty"`
	// originalPayload is the signal as received, capped by the gateway. It is stored base64
	// encoded without the OpenAPI "byte" format: the API server's CEL evaluation of the spec's
	// immutability rule rejects byte-formatted strings that contain "/" (any JSON payload with a
	// URL), which made every status write to such a request fail.
	// +optional
	// +kubebuilder:validation:MaxLength=65536
	// +kubebuilder:validation:Format=""
	OriginalPayload []byte `json:"originalPayload,omitempty"`
	// providerData carries links and the provider's view of the target.
	// +optional
	ProviderData *ProviderData `json:"providerData,omitempty"`
	// timeouts overrides the orchestrator's default timeouts for this request.
	// +optional
	Timeouts *Timeouts `json:"timeouts,omitempty"`
	// targetResolution records how the gateway found targetResource in the signal's labels, and
	// why it could not when it could not.
	// +optional
	TargetResolution *TargetResolution `json:"targetResolution,omitempty"`
}

// TargetResolution records how the gateway turned a signal's labels into its target.
type TargetResolution struct {
	// source names the label, or the operator's configured mapping, the target came from, for
	// example "pod", "horizontalpodautoscaler", "instance" or "mapping:<name>".
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Source string `json:"source,omitempty"`
	// namedTarget is the object the label named, before controller owner references were followed
	// (for example the crash-looping Pod whose Deployment is targetResource).
	// +optional
	NamedTarget *common.TargetResource `json:"namedTarget,omitempty"`
	// unresolvedReason is set when the labels name no object Kubernaut can act on (nothing named,
	// an object that does not exist, a kind without actions, another namespace than the alert's).
	// The orchestrator then ends the request in manual review with this reason and changes nothing.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	UnresolvedReason string `json:"unresolvedReason,omitempty"`
}

// Deduplication counts the repeats of a signal while its remediation is active.
type Deduplication struct {
	// firstSeen is when the signal was first received.
	// +required
	FirstSeen metav1.Time `json:"firstSeen"`
	// lastSeen is when the signal was last received.
	// +required
	LastSeen metav1.Time `json:"lastSeen"`
	// occurrenceCount is the number of duplicates received after the first signal.
	// +kubebuilder:validation:Minimum=0
	OccurrenceCount int32 `json:"occurrenceCount"`
	// lastFiringTime is the startsAt of the newest firing notification received. Alertmanager
	// re-sends a still-firing alert with its original startsAt; a newer startsAt means the alert
	// resolved and fired again (a re-fire).
	// +optional
	LastFiringTime *metav1.Time `json:"lastFiringTime,omitempty"`
}

// VerificationResult is what one verification check concluded.
// +kubebuilder:validation:Enum=Passed;Failed;Unknown
type VerificationResult string

// Verification results.
const (
	VerificationPassed  VerificationResult = "Passed"
	VerificationFailed  VerificationResult = "Failed"
	VerificationUnknown VerificationResult = "Unknown"
)

// VerificationCheck is one piece of evidence gathered while verifying a remediation.
type VerificationCheck struct {
	// name of the check, for example "alert-resolved", "alert-refired", "alertmanager-active",
	// "rollout-complete", "pods-healthy", "hpa-below-max", "node-ready", "pvc-capacity".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// source of the evidence: signal (the gateway's notifications), alertmanager, prometheus or cluster.
	// +required
	// +kubebuilder:validation:Enum=signal;alertmanager;prometheus;cluster
	Source string `json:"source"`
	// result of the check.
	// +required
	Result VerificationResult `json:"result"`
	// observed says what the check saw, in a sentence.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Observed string `json:"observed,omitempty"`
	// time the check was made.
	// +required
	Time metav1.Time `json:"time"`
}

// Verification is the evidence the Verifying phase gathered and the outcome it supports.
type Verification struct {
	// changeTime is when the change was made (the first operation's appliedTime, else the
	// execution's completion): evidence is weighed relative to it.
	// +optional
	ChangeTime *metav1.Time `json:"changeTime,omitempty"`
	// window is how long verification waits for evidence after the change.
	// +optional
	Window *metav1.Duration `json:"window,omitempty"`
	// checks are the evidence, one entry per check (the latest observation of each).
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	Checks []VerificationCheck `json:"checks,omitempty"`
	// conclusion explains the outcome in a sentence.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Conclusion string `json:"conclusion,omitempty"`
}

// EscalationRecord remembers one escalation that was sent.
type EscalationRecord struct {
	// phase that escalated.
	// +required
	// +kubebuilder:validation:MaxLength=63
	Phase string `json:"phase"`
	// reason of the escalation: timeout, failure or rejection.
	// +required
	// +kubebuilder:validation:MaxLength=63
	Reason string `json:"reason"`
	// time the notification service accepted the escalation.
	// +required
	Time metav1.Time `json:"time"`
	// notificationName is the NotificationRequest the notification service created.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	NotificationName string `json:"notificationName,omitempty"`
}

// AuditStatus is the audit outbox: which phase datastorage has acknowledged.
type AuditStatus struct {
	// lastAcknowledgedPhase is the last phase datastorage acknowledged.
	// +optional
	LastAcknowledgedPhase Phase `json:"lastAcknowledgedPhase,omitempty"`
	// pending is true while a phase change has not been acknowledged.
	// +optional
	Pending bool `json:"pending,omitempty"`
	// attempts counts failed deliveries of the pending record.
	// +optional
	Attempts int32 `json:"attempts,omitempty"`
	// lastError is the last delivery error.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	LastError string `json:"lastError,omitempty"`
	// sequence counts the phase changes of this request; each audit record carries its own, so an
	// older phase never overwrites a newer one in datastorage.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Sequence int64 `json:"sequence,omitempty"`
	// pendingPhases are the phase changes datastorage has not acknowledged yet, oldest first.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	PendingPhases []AuditPendingPhase `json:"pendingPhases,omitempty"`
}

// AuditPendingPhase is one phase change waiting in the audit outbox.
type AuditPendingPhase struct {
	// phase the request entered.
	// +required
	Phase Phase `json:"phase"`
	// sequence of this phase change.
	// +required
	// +kubebuilder:validation:Minimum=0
	Sequence int64 `json:"sequence"`
	// time the request entered the phase.
	// +required
	Time metav1.Time `json:"time"`
}

// RemediationRequestStatus is written by the orchestrator, except deduplication and
// signalResolvedAt, which only the gateway writes.
type RemediationRequestStatus struct {
	// overallPhase is where the remediation stands.
	// +optional
	OverallPhase Phase `json:"overallPhase,omitempty"`
	// outcome says how a finished remediation ended.
	// +optional
	Outcome Outcome `json:"outcome,omitempty"`
	// message explains the phase in a sentence.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
	// startTime is when the orchestrator started the remediation.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// phaseStartTime is when the current phase began (the base of per-phase timeouts).
	// +optional
	PhaseStartTime *metav1.Time `json:"phaseStartTime,omitempty"`
	// completionTime is when the remediation reached a terminal phase.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// remediationProcessingRef names the RemediationProcessing child.
	// +optional
	RemediationProcessingRef *common.ObjectReference `json:"remediationProcessingRef,omitempty"`
	// aiAnalysisRef names the AIAnalysis child.
	// +optional
	AIAnalysisRef *common.ObjectReference `json:"aiAnalysisRef,omitempty"`
	// workflowExecutionRef names the WorkflowExecution child.
	// +optional
	WorkflowExecutionRef *common.ObjectReference `json:"workflowExecutionRef,omitempty"`
	// kubernetesExecutionRef names the KubernetesExecution child.
	// +optional
	KubernetesExecutionRef *common.ObjectReference `json:"kubernetesExecutionRef,omitempty"`
	// notificationRequestRefs names the NotificationRequests created for this request.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	NotificationRequestRefs []common.ObjectReference `json:"notificationRequestRefs,omitempty"`
	// deduplication counts the repeats of the signal (written by the gateway).
	// +optional
	Deduplication *Deduplication `json:"deduplication,omitempty"`
	// signalResolvedAt is when Alertmanager reported the signal resolved (written by the gateway).
	// +optional
	SignalResolvedAt *metav1.Time `json:"signalResolvedAt,omitempty"`
	// verification is the evidence gathered in the Verifying phase and the conclusion drawn from it.
	// +optional
	Verification *Verification `json:"verification,omitempty"`
	// timeoutPhase is the phase that timed out.
	// +optional
	TimeoutPhase Phase `json:"timeoutPhase,omitempty"`
	// failedPhase is the phase in which a child failed or the recommendation was rejected.
	// +optional
	FailedPhase Phase `json:"failedPhase,omitempty"`
	// verificationBaseline is deduplication.occurrenceCount when Verifying began (informational:
	// a re-send of the same firing alert raises the count without being a re-fire; re-fires are
	// told by deduplication.lastFiringTime, see verification).
	// +optional
	// +kubebuilder:validation:Minimum=0
	VerificationBaseline *int32 `json:"verificationBaseline,omitempty"`
	// failureReason explains a failure.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	FailureReason string `json:"failureReason,omitempty"`
	// retryCount counts retries of the current phase.
	// +optional
	RetryCount int32 `json:"retryCount,omitempty"`
	// escalations lists the escalations sent, one per phase at most.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	Escalations []EscalationRecord `json:"escalations,omitempty"`
	// audit is the audit outbox state.
	// +optional
	Audit AuditStatus `json:"audit,omitempty"`
	// observedGeneration is the generation the orchestrator last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions describe the request; Ready summarises it.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// RemediationRequest is one signal to remediate, created by the gateway and driven by the orchestrator.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:selectablefield:JSONPath=`.status.overallPhase`
// +kubebuilder:resource:shortName=rr,categories=kubernaut
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.overallPhase`
// +kubebuilder:printcolumn:name="Outcome",type=string,JSONPath=`.status.outcome`
// +kubebuilder:printcolumn:name="Signal",type=string,JSONPath=`.spec.signalName`
// +kubebuilder:printcolumn:name="Priority",type=string,JSONPath=`.spec.priority`
// +kubebuilder:printcolumn:name="Kind",type=string,JSONPath=`.spec.targetResource.kind`
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=`.spec.targetResource.name`
// +kubebuilder:printcolumn:name="Occurrences",type=integer,JSONPath=`.status.deduplication.occurrenceCount`,priority=1
// +kubebuilder:printcolumn:name="Namespace",type=string,JSONPath=`.spec.targetResource.namespace`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type RemediationRequest struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the signal; it cannot change after creation.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec is immutable"
	Spec RemediationRequestSpec `json:"spec"`
	// status is where the remediation stands.
	// +optional
	Status RemediationRequestStatus `json:"status,omitempty"`
}

// RemediationRequestList is a list of RemediationRequests.
// +kubebuilder:object:root=true
type RemediationRequestList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RemediationRequest `json:"items"`
}

func init() {
	SchemeBuilder.Register(&RemediationRequest{}, &RemediationRequestList{})
}
