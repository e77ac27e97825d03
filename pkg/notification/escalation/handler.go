// Package escalation serves POST /api/v1/notify/escalation: it validates the seed's
// EscalationRequest and turns an accepted one into a durable NotificationRequest of type
// Escalation named "<rr>-escalation-<phase>", so a repeated escalation is answered 202 with
// duplicate=true and never notifies twice.
//
// Metrics (controller-runtime registry):
//   - kubernaut_notification_escalations_total{result}: requests by result (accepted,
//     duplicate, invalid, unavailable).
package escalation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/httpapi"
	api "github.com/kubernaut/kubernaut/pkg/shared/notificationapi"

	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// +kubebuilder:rbac:groups=notification.kubernaut.io,resources=notificationrequests,verbs=get;create
// +kubebuilder:rbac:groups=remediation.kubernaut.io,resources=remediationrequests,verbs=get

var escalationsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "kubernaut_notification_escalations_total",
	Help: "Escalation requests by result (accepted, duplicate, invalid, unavailable).",
}, []string{"result"})

func init() { metrics.Registry.MustRegister(escalationsTotal) }

// Handler accepts escalations.
type Handler struct {
	// Client creates NotificationRequests; Reader reads the RemediationRequest for the owner reference.
	Client client.Client
	Reader client.Reader
	// Namespace is where NotificationRequests are created (the system namespace).
	Namespace string
	// MaxBodyBytes bounds the request body.
	MaxBodyBytes int64
	// Retry is copied into the request's retry policy when set.
	Retry notificationv1.RetryPolicy
	Log   logr.Logger
}

// Routes returns the API mux with bearer authentication.
func (h *Handler) Routes(auth httpapi.Authenticator) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+api.EscalationPath, httpapi.RequireBearer(auth, h))
	return mux
}

// ServeHTTP handles one escalation.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		escalationsTotal.WithLabelValues("invalid").Inc()
		httpapi.WriteError(w, http.StatusUnsupportedMediaType, "the body must be application/json")
		return
	}
	body, err := httpapi.ReadBody(r, h.MaxBodyBytes)
	if err != nil {
		escalationsTotal.WithLabelValues("invalid").Inc()
		httpapi.WriteBodyError(w, err, h.MaxBodyBytes)
		return
	}
	var req api.EscalationRequest
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&req); err != nil {
		escalationsTotal.WithLabelValues("invalid").Inc()
		httpapi.WriteError(w, http.StatusBadRequest, "the body is not a valid EscalationRequest", decodeProblem(err))
		return
	}
	if problems := req.Validate(); len(problems) > 0 {
		escalationsTotal.WithLabelValues("invalid").Inc()
		httpapi.WriteError(w, http.StatusBadRequest, "invalid EscalationRequest", problems...)
		return
	}
	nr := h.notificationFor(r.Context(), &req)
	log := h.Log.WithValues("notificationRequest", h.Namespace+"/"+nr.Name, "remediationRequest", req.RemediationRequestNamespace+"/"+req.RemediationRequestName,
		"phase", req.EscalationPhase, "caller", httpapi.Caller(r.Context()))
	err = h.Client.Create(r.Context(), nr)
	switch {
	case err == nil:
		escalationsTotal.WithLabelValues("accepted").Inc()
		log.Info("Escalation accepted")
		httpapi.WriteJSON(w, http.StatusAccepted, api.EscalationResponse{NotificationName: nr.Name})
	case apierrors.IsAlreadyExists(err):
		escalationsTotal.WithLabelValues("duplicate").Inc()
		log.Info("Escalation already accepted")
		httpapi.WriteJSON(w, http.StatusAccepted, api.EscalationResponse{NotificationName: nr.Name, Duplicate: true})
	case apierrors.IsInvalid(err):
		escalationsTotal.WithLabelValues("invalid").Inc()
		var details []string
		if st, ok := err.(apierrors.APIStatus); ok && st.Status().Details != nil {
			for _, c := range st.Status().Details.Causes {
				details = append(details, c.Field+": "+c.Message)
			}
		}
		httpapi.WriteError(w, http.StatusBadRequest, "the escalation does not make a valid NotificationRequest", details...)
	default:
		escalationsTotal.WithLabelValues("unavailable").Inc()
		log.Error(err, "Cannot store the escalation")
		w.Header().Set("Retry-After", "5")
		httpapi.WriteError(w, http.StatusServiceUnavailable, "cannot store the escalation now; retry")
	}
}

func decodeProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s: must be a JSON %s", te.Field, te.Type)
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return "a time field: must be RFC 3339, not " + strconv.Quote(pe.Value)
	}
	return err.Error()
}

// urgencyPriority maps the seed's urgency to a notification priority.
func urgencyPriority(u string) notificationv1.Priority {
	switch u {
	case "critical":
		return notificationv1.PriorityCritical
	case "high":
		return notificationv1.PriorityHigh
	case "normal":
		return notificationv1.PriorityMedium
	default:
		return notificationv1.PriorityLow
	}
}

// notificationFor builds the NotificationRequest of an escalation. When the RemediationRequest
// exists in the same namespace it owns the notification (cascade delete).
func (h *Handler) notificationFor(ctx context.Context, req *api.EscalationRequest) *notificationv1.NotificationRequest {
	resource := req.Resource.Kind + "/" + req.Resource.Name
	if req.Resource.Namespace != "" {
		resource = req.Resource.Kind + "/" + req.Resource.Namespace + "/" + req.Resource.Name
	}
	var body strings.Builder
	fmt.Fprintf(&body, "Remediation `%s/%s` of *%s* (%s, %s, %s) was escalated by %s: %s in phase %s.\n\n",
		req.RemediationRequestNamespace, req.RemediationRequestName, req.AlertName, req.Severity, req.Environment, req.Priority,
		req.EscalatingController, req.EscalationReason, req.EscalationPhase)
	fmt.Fprintf(&body, "Resource: %s\nFiring since: %s\nReceived: %s\nRunning for: %s\nEscalated at: %s\n",
		resource, req.AlertFiringTime.UTC().Format(time.RFC3339), req.AlertReceivedTime.UTC().Format(time.RFC3339),
		req.RemediationDuration, req.EscalationTime.UTC().Format(time.RFC3339))
	meta := map[string]string{
		api.MetaRemediationRequest: req.RemediationRequestNamespace + "/" + req.RemediationRequestName,
		api.MetaSignalFingerprint:  req.AlertFingerprint,
		api.MetaSignalName:         req.AlertName,
		api.MetaSeverity:           req.Severity,
		api.MetaEnvironment:        req.Environment,
		api.MetaPriority:           req.Priority,
		api.MetaNamespace:          req.Namespace,
		api.MetaResource:           resource,
		api.MetaEscalationPhase:    req.EscalationPhase,
		api.MetaEscalationReason:   req.EscalationReason,
		"escalatingController":     req.EscalatingController,
		"urgency":                  req.Urgency,
	}
	if d := req.EscalationDetails; d != nil {
		fmt.Fprintln(&body)
		for k, v := range map[string]string{"timeoutDuration": d.TimeoutDuration, "failureReason": d.FailureReason, "lastError": d.LastError} {
			if v != "" {
				meta[k] = text.Truncate(v, 1000)
			}
		}
		if d.TimeoutDuration != "" {
			fmt.Fprintf(&body, "Timeout: %s\n", d.TimeoutDuration)
		}
		if d.RetryCount > 0 {
			meta["retryCount"] = strconv.Itoa(d.RetryCount)
			fmt.Fprintf(&body, "Retries: %d\n", d.RetryCount)
		}
		if d.FailureReason != "" {
			fmt.Fprintf(&body, "Failure: %s\n", d.FailureReason)
		}
		if d.LastError != "" {
			fmt.Fprintf(&body, "Last error: %s\n", d.LastError)
		}
	}
	if req.AlertmanagerURL != "" {
		meta[api.MetaAlertmanagerURL] = req.AlertmanagerURL
	}
	if req.GrafanaURL != "" {
		meta[api.MetaGrafanaURL] = req.GrafanaURL
	}
	channels := make([]notificationv1.Channel, 0, len(req.Channels))
	for _, ch := range req.Channels {
		channels = append(channels, notificationv1.Channel(ch))
	}
	nr := &notificationv1.NotificationRequest{
		ObjectMeta: metav1.ObjectMeta{
			Name: api.EscalationName(req.RemediationRequestName, req.EscalationPhase), Namespace: h.Namespace,
			Labels: map[string]string{notificationv1.LabelNotificationType: string(notificationv1.TypeEscalation)},
		},
		Spec: notificationv1.NotificationRequestSpec{
			RemediationRequestRef: &common.ObjectReference{Name: req.RemediationRequestName, Namespace: req.RemediationRequestNamespace},
			Type:                  notificationv1.TypeEscalation,
			Subject: text.Truncate(fmt.Sprintf("⚠️ Escalation: %s %s in %s (%s)", req.AlertName, req.EscalationReason,
				req.EscalationPhase, req.RemediationRequestName), 500),
			Body:        text.Truncate(body.String(), 65536),
			Priority:    urgencyPriority(req.Urgency),
			Channels:    channels,
			Metadata:    meta,
			RetryPolicy: h.Retry,
		},
	}
	if req.RemediationRequestNamespace == h.Namespace && h.Reader != nil {
		rr := &remediationv1.RemediationRequest{}
		if err := h.Reader.Get(ctx, client.ObjectKey{Namespace: h.Namespace, Name: req.RemediationRequestName}, rr); err == nil {
			nr.OwnerReferences = []metav1.OwnerReference{{
				APIVersion: remediationv1.GroupVersion.String(), Kind: "RemediationRequest", Name: rr.Name, UID: rr.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(false),
			}}
		}
	}
	return nr
}
