// Package notificationapi is the notification service's HTTP contract: the seed's
// EscalationRequest (§4) and a client for POST /api/v1/notify/escalation.
package notificationapi

import (
	"context"
	"net/http"
	"time"

	"github.com/kubernaut/kubernaut/pkg/shared/httpclient"
)

// EscalationPath is the escalation endpoint.
const EscalationPath = "/api/v1/notify/escalation"

// ResourceIdentifier names the affected resource.
type ResourceIdentifier struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// EscalationRequest is the seed's unified escalation schema; every field without omitempty is REQUIRED.
type EscalationRequest struct {
	// Source context.
	RemediationRequestName      string `json:"remediationRequestName"`
	RemediationRequestNamespace string `json:"remediationRequestNamespace"`
	EscalatingController        string `json:"escalatingController"`

	// Alert context.
	AlertFingerprint string `json:"alertFingerprint"`
	AlertName        string `json:"alertName"`
	Severity         string `json:"severity"`    // critical|warning|info
	Environment      string `json:"environment"` // production|staging|development|test|unknown
	Priority         string `json:"priority"`    // P0..P3
	SignalType       string `json:"signalType"`  // prometheus-alert|kubernetes-event

	// Resource context.
	Namespace string             `json:"namespace"`
	Resource  ResourceIdentifier `json:"resource"`

	// Escalation context.
	EscalationReason  string             `json:"escalationReason"` // timeout|failure|rejection
	EscalationPhase   string             `json:"escalationPhase"`
	EscalationTime    time.Time          `json:"escalationTime"`
	EscalationDetails *EscalationDetails `json:"escalationDetails,omitempty"`

	// Temporal context.
	AlertFiringTime     time.Time `json:"alertFiringTime"`
	AlertReceivedTime   time.Time `json:"alertReceivedTime"`
	RemediationDuration string    `json:"remediationDuration"`

	// Notification routing.
	Channels []string `json:"channels"` // slack|email|pagerduty|msteams|webhook|console
	Urgency  string   `json:"urgency"`  // critical|high|normal|low

	// External links.
	AlertmanagerURL string `json:"alertmanagerURL,omitempty"`
	GrafanaURL      string `json:"grafanaURL,omitempty"`
}

// EscalationDetails carries structured timeout and failure information.
type EscalationDetails struct {
	TimeoutDuration string `json:"timeoutDuration,omitempty"`
	Phase           string `json:"phase,omitempty"`
	RetryCount      int    `json:"retryCount,omitempty"`
	FailureReason   string `json:"failureReason,omitempty"`
	LastError       string `json:"lastError,omitempty"`
}

// EscalationResponse is the 202 answer.
type EscalationResponse struct {
	// NotificationName is the NotificationRequest that will deliver the escalation.
	NotificationName string `json:"notificationName"`
	// Duplicate is true when the same escalation was accepted before.
	Duplicate bool `json:"duplicate,omitempty"`
}

// DetermineChannels maps a priority to the seed's default escalation channels.
func DetermineChannels(priority string) []string {
	switch priority {
	case "P0":
		return []string{"pagerduty", "slack", "email"}
	case "P1":
		return []string{"slack", "email"}
	default:
		return []string{"email"}
	}
}

// MapPriorityToUrgency maps a priority to the seed's urgency.
func MapPriorityToUrgency(priority string) string {
	switch priority {
	case "P0":
		return "critical"
	case "P1":
		return "high"
	case "P2":
		return "normal"
	default:
		return "low"
	}
}

// Client calls the notification service.
type Client struct{ *httpclient.Client }

// NewClient returns a client for the base URL, sending the token in tokenFile.
func NewClient(baseURL, tokenFile string) *Client {
	return &Client{httpclient.New(baseURL, tokenFile)}
}

// SendEscalation posts an escalation; use httpclient.Retryable on the error.
func (c *Client) SendEscalation(ctx context.Context, req EscalationRequest) (EscalationResponse, error) {
	var out EscalationResponse
	err := c.Do(ctx, http.MethodPost, EscalationPath, req, &out)
	return out, err
}
