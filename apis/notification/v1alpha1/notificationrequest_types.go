package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
)

// Type is the kind of notification.
// +kubebuilder:validation:Enum=Approval;Escalation;Completion;ManualReview;Simple
type Type string

// Notification types.
const (
	TypeApproval     Type = "Approval"
	TypeEscalation   Type = "Escalation"
	TypeCompletion   Type = "Completion"
	TypeManualReview Type = "ManualReview"
	TypeSimple       Type = "Simple"
)

// Priority of a notification.
// +kubebuilder:validation:Enum=Critical;High;Medium;Low
type Priority string

// Priorities.
const (
	PriorityCritical Priority = "Critical"
	PriorityHigh     Priority = "High"
	PriorityMedium   Priority = "Medium"
	PriorityLow      Priority = "Low"
)

// Channel is a delivery channel.
// +kubebuilder:validation:Enum=slack;email;pagerduty;msteams;webhook;console
type Channel string

// Channels.
const (
	ChannelSlack     Channel = "slack"
	ChannelEmail     Channel = "email"
	ChannelPagerDuty Channel = "pagerduty"
	ChannelMSTeams   Channel = "msteams"
	ChannelWebhook   Channel = "webhook"
	ChannelConsole   Channel = "console"
)

// Phase is the phase of a NotificationRequest.
// +kubebuilder:validation:Enum=Pending;Sending;Retrying;Sent;PartiallySent;Failed
type Phase string

// Phases of a NotificationRequest.
const (
	PhasePending       Phase = "Pending"
	PhaseSending       Phase = "Sending"
	PhaseRetrying      Phase = "Retrying"
	PhaseSent          Phase = "Sent"
	PhasePartiallySent Phase = "PartiallySent"
	PhaseFailed        Phase = "Failed"
)

// IsTerminal reports whether delivery has finished.
func (p Phase) IsTerminal() bool {
	return p == PhaseSent || p == PhasePartiallySent || p == PhaseFailed
}

// DeliveryStatus is the result of one delivery attempt.
// +kubebuilder:validation:Enum=Success;Failed
type DeliveryStatus string

// Delivery results.
const (
	DeliverySuccess DeliveryStatus = "Success"
	DeliveryFailed  DeliveryStatus = "Failed"
)

// Condition types and reasons of a NotificationRequest.
const (
	// ConditionReady is True once every channel was delivered.
	ConditionReady = common.ConditionReady

	ReasonAllDelivered    = "AllDelivered"
	ReasonPartialDelivery = "PartialDelivery"
	ReasonDeliveryFailed  = "DeliveryFailed"
	ReasonRetrying        = "Retrying"
	ReasonNotConfigured   = "NotConfigured"
)

// Recipient addresses one channel's destination, for example a Slack channel or an email address.
type Recipient struct {
	// channel the address belongs to.
	// +required
	Channel Channel `json:"channel"`
	// address on that channel: "#kubernaut-approvals", "oncall@example.com", a webhook name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=320
	Address string `json:"address"`
}

// RetryPolicy says how often and how fast failed deliveries are retried.
type RetryPolicy struct {
	// maxAttempts per channel, including the first.
	// +optional
	// +kubebuilder:default=5
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10
	MaxAttempts int32 `json:"maxAttempts,omitempty"`
	// initialBackoff before the first retry; doubles each retry.
	// +optional
	// +kubebuilder:default="30s"
	InitialBackoff *metav1.Duration `json:"initialBackoff,omitempty"`
	// maxBackoff caps the backoff.
	// +optional
	// +kubebuilder:default="480s"
	MaxBackoff *metav1.Duration `json:"maxBackoff,omitempty"`
}

// NotificationRequestSpec is one notification to deliver.
type NotificationRequestSpec struct {
	// remediationRequestRef names the RemediationRequest the notification is about.
	// +optional
	RemediationRequestRef *common.ObjectReference `json:"remediationRequestRef,omitempty"`
	// type of the notification.
	// +required
	Type Type `json:"type"`
	// subject line.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=500
	Subject string `json:"subject"`
	// body in Markdown.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=65536
	Body string `json:"body"`
	// priority of the notification.
	// +required
	Priority Priority `json:"priority"`
	// channels to deliver to; empty means the default channels for the priority.
	// +optional
	// +kubebuilder:validation:MaxItems=6
	// +listType=set
	Channels []Channel `json:"channels,omitempty"`
	// recipients per channel.
	// +optional
	// +kubebuilder:validation:MaxItems=20
	Recipients []Recipient `json:"recipients,omitempty"`
	// metadata is context shown with the notification (remediation, analysis, confidence, …).
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Metadata map[string]string `json:"metadata,omitempty"`
	// retryPolicy for failed deliveries.
	// +optional
	RetryPolicy RetryPolicy `json:"retryPolicy,omitempty"`
}

// DeliveryAttempt records one delivery attempt on one channel.
type DeliveryAttempt struct {
	// channel attempted.
	// +required
	Channel Channel `json:"channel"`
	// attempt number on this channel, from 1.
	// +kubebuilder:validation:Minimum=1
	Attempt int32 `json:"attempt"`
	// time of the attempt.
	// +required
	Time metav1.Time `json:"time"`
	// status of the attempt.
	// +required
	Status DeliveryStatus `json:"status"`
	// error of a failed attempt, redacted.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Error string `json:"error,omitempty"`
	// permanent is true when the failure will not be retried.
	// +optional
	Permanent bool `json:"permanent,omitempty"`
}

// NotificationRequestStatus is written by the notification service.
type NotificationRequestStatus struct {
	// phase of the delivery.
	// +optional
	Phase Phase `json:"phase,omitempty"`
	// message explains the phase.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
	// deliveryAttempts records every attempt.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	DeliveryAttempts []DeliveryAttempt `json:"deliveryAttempts,omitempty"`
	// sentAt is when the last channel was delivered.
	// +optional
	SentAt *metav1.Time `json:"sentAt,omitempty"`
	// completionTime is when delivery finished, successfully or not.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// observedGeneration is the generation last delivered.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions describe the delivery; Ready summarises it.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// NotificationRequest is one notification to deliver to people.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=nr,categories=kubernaut
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Priority",type=string,JSONPath=`.spec.priority`
// +kubebuilder:printcolumn:name="Subject",type=string,JSONPath=`.spec.subject`,priority=1
// +kubebuilder:printcolumn:name="Sent",type=date,JSONPath=`.status.sentAt`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type NotificationRequest struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the notification.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec is immutable"
	Spec NotificationRequestSpec `json:"spec"`
	// status is the delivery state.
	// +optional
	Status NotificationRequestStatus `json:"status,omitempty"`
}

// NotificationRequestList is a list of NotificationRequests.
// +kubebuilder:object:root=true
type NotificationRequestList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []NotificationRequest `json:"items"`
}

func init() {
	SchemeBuilder.Register(&NotificationRequest{}, &NotificationRequestList{})
}
