// Package auditapi is the datastorage service's HTTP contract: the seed's RemediationAudit and
// ServiceCRDStatus (§5), extended with the approval decision and the executed operations, and a
// client for it.
package auditapi

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/kubernaut/kubernaut/pkg/shared/httpclient"
)

// Paths of the datastorage API.
const (
	RemediationPath   = "/api/v1/audit/remediation"
	EffectivenessPath = "/api/v1/effectiveness"
)

// RemediationAudit is one remediation's audit record, upserted by RemediationName.
type RemediationAudit struct {
	AlertFingerprint   string             `json:"alertFingerprint"`
	RemediationName    string             `json:"remediationName"`
	Namespace          string             `json:"namespace,omitempty"`
	SignalName         string             `json:"signalName,omitempty"`
	Severity           string             `json:"severity,omitempty"`
	Environment        string             `json:"environment,omitempty"`
	Priority           string             `json:"priority,omitempty"`
	TargetResource     string             `json:"targetResource,omitempty"` // kind/namespace/name
	OverallPhase       string             `json:"overallPhase"`
	Outcome            string             `json:"outcome,omitempty"`
	StartTime          time.Time          `json:"startTime"`
	CompletionTime     *time.Time         `json:"completionTime,omitempty"`
	ServiceCRDStatuses []ServiceCRDStatus `json:"serviceCrdStatuses"`
	TimeoutPhase       *string            `json:"timeoutPhase,omitempty"`
	FailureReason      *string            `json:"failureReason,omitempty"`
	// Approval answers "who allowed it".
	Approval *ApprovalRecord `json:"approval,omitempty"`
	// Operations answers "what changed".
	Operations []OperationRecord `json:"operations,omitempty"`
	// Verification answers "did it help, and how do we know": the evidence gathered after the
	// change and the conclusion drawn from it (the outcome).
	Verification *VerificationRecord `json:"verification,omitempty"`
	// PhaseSequence orders phase changes of one remediation (higher is newer), so an older
	// phase never overwrites a newer one.
	PhaseSequence int64 `json:"phaseSequence,omitempty"`
}

// ServiceCRDStatus is the state of one child resource.
type ServiceCRDStatus struct {
	ServiceType    string     `json:"serviceType"` // RemediationProcessing, AIAnalysis, WorkflowExecution, KubernetesExecution, NotificationRequest
	CRDName        string     `json:"crdName"`
	Phase          string     `json:"phase"`
	StartTime      time.Time  `json:"startTime"`
	CompletionTime *time.Time `json:"completionTime,omitempty"`
}

// ApprovalRecord is the human decision on the recommendation.
type ApprovalRecord struct {
	Required  bool       `json:"required"`
	Decision  string     `json:"decision,omitempty"`
	DecidedBy string     `json:"decidedBy,omitempty"`
	DecidedAt *time.Time `json:"decidedAt,omitempty"`
}

// OperationRecord is one executed operation and its result.
type OperationRecord struct {
	Name    string            `json:"name"`
	Action  string            `json:"action"`
	Target  string            `json:"target"`
	Params  map[string]string `json:"parameters,omitempty"`
	Phase   string            `json:"phase"`
	Message string            `json:"message,omitempty"`
	DryRun  bool              `json:"dryRun,omitempty"`
}

// VerificationRecord is the evidence of a remediation's outcome.
type VerificationRecord struct {
	// ChangeTime is when the change was made; evidence is weighed relative to it.
	ChangeTime *time.Time `json:"changeTime,omitempty"`
	// Window is how long evidence was gathered after the change (a Go duration, "15m0s").
	Window string `json:"window,omitempty"`
	// Checks are the pieces of evidence.
	Checks []VerificationCheck `json:"checks,omitempty"`
	// Conclusion explains the outcome in a sentence.
	Conclusion string `json:"conclusion,omitempty"`
}

// VerificationCheck is one piece of evidence.
type VerificationCheck struct {
	// Name of the check, for example "alert-resolved" or "pods-healthy".
	Name string `json:"name"`
	// Source of the evidence: signal, alertmanager, prometheus or cluster.
	Source string `json:"source"`
	// Result is Passed, Failed or Unknown.
	Result string `json:"result"`
	// Observed says what the check saw.
	Observed string `json:"observed,omitempty"`
	// Time is when the check first saw it.
	Time time.Time `json:"time"`
}

// Effectiveness is the historical success of an action for a signal, learnt only from verified
// outcomes: Total counts the remediations whose outcome was verified either way, Successful those
// Remediated (Ineffective the others); Inconclusive ones are shown but not counted.
type Effectiveness struct {
	SignalName  string  `json:"signalName"`
	Action      string  `json:"action"`
	Total       int64   `json:"total"`
	Successful  int64   `json:"successful"`
	SuccessRate float64 `json:"successRate"`
	// Ineffective counts the verified failures (Total - Successful).
	Ineffective int64 `json:"ineffective"`
	// Inconclusive counts the remediations whose outcome could not be verified (not in Total).
	Inconclusive int64 `json:"inconclusive"`
	// LastSeen is the latest completion among the counted and inconclusive remediations.
	LastSeen *time.Time `json:"lastSeen,omitempty"`
}

// Client calls datastorage.
type Client struct{ *httpclient.Client }

// NewClient returns a client for the base URL, sending the token in tokenFile.
func NewClient(baseURL, tokenFile string) *Client {
	return &Client{httpclient.New(baseURL, tokenFile)}
}

// PostRemediation upserts an audit record; use httpclient.Retryable on the error.
func (c *Client) PostRemediation(ctx context.Context, a RemediationAudit) error {
	return c.Do(ctx, http.MethodPost, RemediationPath, a, nil)
}

// Effectiveness fetches the success rate of action for signalName.
func (c *Client) Effectiveness(ctx context.Context, signalName, action string) (Effectiveness, error) {
	var out Effectiveness
	q := url.Values{"signalName": {signalName}, "action": {action}}
	err := c.Do(ctx, http.MethodGet, EffectivenessPath+"?"+q.Encode(), nil, &out)
	return out, err
}
