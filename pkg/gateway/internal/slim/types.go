// Package slim holds the part of a RemediationRequest the gateway reads. The gateway's informer,
// its writes and its reads all decode RemediationRequests into these types, so that the
// original payload, labels, annotations and provider data of every request are skipped by the
// JSON decoder instead of being base64-decoded and allocated, then thrown away. Values are
// immutable once built: they are shared between the informer's store, the gateway's memory of
// its own writes and the goroutines that read them. Deep copies are generated (make generate).
//
// +kubebuilder:object:generate=true
package slim

import (
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
)

// AnnotationGeneration records a request's generation within its fingerprint.
const AnnotationGeneration = "kubernaut.io/signal-generation"

// Request is a RemediationRequest as the gateway sees it.
//
// +kubebuilder:object:root=true
type Request struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              Spec   `json:"spec"`
	Status            Status `json:"status"`
}

// Spec is the part of the spec the gateway reads.
type Spec struct {
	SignalFingerprint string      `json:"signalFingerprint"`
	ReceivedTime      metav1.Time `json:"receivedTime"`
}

// Status is the part of the status the gateway reads.
type Status struct {
	OverallPhase     remediationv1.Phase          `json:"overallPhase,omitempty"`
	CompletionTime   *metav1.Time                 `json:"completionTime,omitempty"`
	Deduplication    *remediationv1.Deduplication `json:"deduplication,omitempty"`
	SignalResolvedAt *metav1.Time                 `json:"signalResolvedAt,omitempty"`
}

// RequestList is a list of Request.
//
// +kubebuilder:object:root=true
type RequestList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Request `json:"items"`
}

// Generation is the request's generation within its fingerprint (annotation
// kubernaut.io/signal-generation; 0 when missing).
func (s *Request) Generation() int64 {
	g, err := strconv.ParseInt(s.Annotations[AnnotationGeneration], 10, 64)
	if err != nil {
		return 0
	}
	return g
}

// WithGeneration makes sure the annotation is there, for requests written by hand.
func (s *Request) WithGeneration(gen int64) *Request {
	if s.Annotations[AnnotationGeneration] == "" {
		s.Annotations = map[string]string{AnnotationGeneration: strconv.FormatInt(gen, 10)}
	}
	return s
}
