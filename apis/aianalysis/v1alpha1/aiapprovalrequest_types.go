package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
)

// ApprovalPhase is the phase of an AIApprovalRequest.
// +kubebuilder:validation:Enum=Pending;Approved;Rejected;Expired
type ApprovalPhase string

// Phases of an AIApprovalRequest.
const (
	ApprovalPhasePending  ApprovalPhase = "Pending"
	ApprovalPhaseApproved ApprovalPhase = "Approved"
	ApprovalPhaseRejected ApprovalPhase = "Rejected"
	ApprovalPhaseExpired  ApprovalPhase = "Expired"
)

// IsTerminal reports whether the decision is taken (Approved, Rejected or Expired).
func (p ApprovalPhase) IsTerminal() bool {
	return p == ApprovalPhaseApproved || p == ApprovalPhaseRejected || p == ApprovalPhaseExpired
}

// AIApprovalRequestSpec asks a human to approve a recommendation.
type AIApprovalRequestSpec struct {
	// aiAnalysisRef names the AIAnalysis awaiting the decision.
	// +required
	AIAnalysisRef common.ObjectReference `json:"aiAnalysisRef"`
	// remediationRequestRef names the RemediationRequest behind the analysis.
	// +required
	RemediationRequestRef common.ObjectReference `json:"remediationRequestRef"`
	// recommendation to approve.
	// +required
	Recommendation Recommendation `json:"recommendation"`
	// confidence of the analysis, 0 to 1.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1
	Confidence float64 `json:"confidence"`
	// reason approval is required.
	// +required
	// +kubebuilder:validation:MaxLength=1024
	Reason string `json:"reason"`
	// requiredBy is the deadline for a decision (default now + 15m); then the request expires.
	// +required
	RequiredBy metav1.Time `json:"requiredBy"`
}

// AIApprovalRequestStatus holds the human decision (status.decision and who took it);
// the aianalysis controller writes only the expiry and the phase.
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.decision) || size(oldSelf.decision) == 0 || self.decision == oldSelf.decision",message="a decision cannot be changed once taken"
type AIApprovalRequestStatus struct {
	// phase mirrors the decision: Pending until decided.
	// +optional
	Phase ApprovalPhase `json:"phase,omitempty"`
	// decision taken: Approved, Rejected or Expired.
	// +optional
	Decision Decision `json:"decision,omitempty"`
	// decidedBy is who decided.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	DecidedBy string `json:"decidedBy,omitempty"`
	// decidedAt is when the decision was taken.
	// +optional
	DecidedAt *metav1.Time `json:"decidedAt,omitempty"`
	// message is the decider's comment.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
	// observedGeneration is the generation last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions describe the request; Ready is True once decided.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// AIApprovalRequest asks a human to approve or reject a recommended remediation.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=aiar,categories=kubernaut
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Action",type=string,JSONPath=`.spec.recommendation.action`
// +kubebuilder:printcolumn:name="Confidence",type=number,JSONPath=`.spec.confidence`
// +kubebuilder:printcolumn:name="Decided-By",type=string,JSONPath=`.status.decidedBy`
// +kubebuilder:printcolumn:name="Required-By",type=date,JSONPath=`.spec.requiredBy`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type AIApprovalRequest struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is what to approve.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec is immutable"
	Spec AIApprovalRequestSpec `json:"spec"`
	// status is the decision.
	// +optional
	Status AIApprovalRequestStatus `json:"status,omitempty"`
}

// AIApprovalRequestList is a list of AIApprovalRequests.
// +kubebuilder:object:root=true
type AIApprovalRequestList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AIApprovalRequest `json:"items"`
}

func init() {
	SchemeBuilder.Register(&AIApprovalRequest{}, &AIApprovalRequestList{})
}
