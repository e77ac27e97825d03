package orchestrator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kubernaut/kubernaut/pkg/datastorage"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

const testToken = "orchestrator-test-token"

var fingerprintRE = regexp.MustCompile(`^[a-f0-9]{64}$`)

// notificationStandIn plays the notification service: it checks the bearer token and every
// REQUIRED field of the seed's EscalationRequest (400 listing the missing ones), answers 202, and
// can be switched to 503.
type notificationStandIn struct {
	srv  *httptest.Server
	down atomic.Bool
	mu   sync.Mutex
	got  []notificationapi.EscalationRequest
}

func newNotificationStandIn(t testing.TB) *notificationStandIn {
	n := &notificationStandIn{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+notificationapi.EscalationPath, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "unauthorized"})
			return
		}
		if n.down.Load() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "notification service unavailable"})
			return
		}
		var raw map[string]any
		var req notificationapi.EscalationRequest
		dec := json.NewDecoder(r.Body)
		var body json.RawMessage
		if err := dec.Decode(&body); err != nil || json.Unmarshal(body, &raw) != nil || json.Unmarshal(body, &req) != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "malformed JSON"})
			return
		}
		if missing := missingEscalationFields(raw, req); len(missing) > 0 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "missing required fields", "details": missing})
			return
		}
		n.mu.Lock()
		n.got = append(n.got, req)
		n.mu.Unlock()
		writeJSON(w, http.StatusAccepted, notificationapi.EscalationResponse{NotificationName: notificationapi.EscalationName(req.RemediationRequestName, req.EscalationPhase)})
	})
	n.srv = httptest.NewServer(mux)
	t.Cleanup(n.srv.Close)
	return n
}

func missingEscalationFields(raw map[string]any, req notificationapi.EscalationRequest) []string {
	var missing []string
	for _, f := range []string{"remediationRequestName", "remediationRequestNamespace", "escalatingController", "alertFingerprint",
		"alertName", "severity", "environment", "priority", "signalType", "namespace", "escalationReason", "escalationPhase",
		"remediationDuration", "urgency"} {
		if s, ok := raw[f].(string); !ok || s == "" {
			missing = append(missing, f)
		}
	}
	if req.Resource.Kind == "" || req.Resource.Name == "" {
		missing = append(missing, "resource")
	}
	for f, v := range map[string]bool{"escalationTime": req.EscalationTime.IsZero(), "alertFiringTime": req.AlertFiringTime.IsZero(), "alertReceivedTime": req.AlertReceivedTime.IsZero()} {
		if v {
			missing = append(missing, f)
		}
	}
	if len(req.Channels) == 0 {
		missing = append(missing, "channels")
	}
	if !slices.Contains([]string{"critical", "high", "normal", "low"}, req.Urgency) {
		missing = append(missing, "urgency (critical|high|normal|low)")
	}
	if !slices.Contains([]string{"timeout", "failure", "rejection"}, req.EscalationReason) {
		missing = append(missing, "escalationReason (timeout|failure|rejection)")
	}
	if !fingerprintRE.MatchString(req.AlertFingerprint) {
		missing = append(missing, "alertFingerprint (64 hex)")
	}
	return missing
}

func (n *notificationStandIn) escalations(rr string) []notificationapi.EscalationRequest {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []notificationapi.EscalationRequest
	for _, e := range n.got {
		if e.RemediationRequestName == rr {
			out = append(out, e)
		}
	}
	return out
}

// datastorageStandIn plays datastorage: it checks the token and the RemediationAudit fields,
// upserts by remediationName (never letting a lower phaseSequence overwrite a higher one), keeps
// every accepted post, and can be switched to 503.
type datastorageStandIn struct {
	srv   *httptest.Server
	down  atomic.Bool
	mu    sync.Mutex
	posts []auditapi.RemediationAudit
	rows  map[string]auditapi.RemediationAudit
}

var auditPhases = []string{"Pending", "Processing", "Analyzing", "AwaitingApproval", "Planning", "Executing", "Verifying",
	"Completed", "Failed", "TimedOut", "Blocked", "Skipped"}

func newDatastorageStandIn(t testing.TB) *datastorageStandIn {
	d := &datastorageStandIn{rows: map[string]auditapi.RemediationAudit{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+auditapi.RemediationPath, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "unauthorized"})
			return
		}
		if d.down.Load() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "database unavailable"})
			return
		}
		var a auditapi.RemediationAudit
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "malformed JSON"})
			return
		}
		var problems []string
		if !fingerprintRE.MatchString(a.AlertFingerprint) {
			problems = append(problems, "alertFingerprint")
		}
		if a.RemediationName == "" {
			problems = append(problems, "remediationName")
		}
		if !slices.Contains(auditPhases, a.OverallPhase) {
			problems = append(problems, "overallPhase")
		}
		if a.StartTime.IsZero() {
			problems = append(problems, "startTime")
		}
		if a.ServiceCRDStatuses == nil {
			problems = append(problems, "serviceCrdStatuses")
		}
		for i, s := range a.ServiceCRDStatuses {
			if s.ServiceType == "" || s.CRDName == "" || s.Phase == "" || s.StartTime.IsZero() {
				problems = append(problems, fmt.Sprintf("serviceCrdStatuses[%d]", i))
			}
		}
		// The real service's own rules too, so the orchestrator never sends what datastorage refuses.
		problems = append(problems, datastorage.ValidateAudit(&a)...)
		if len(problems) > 0 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid audit record", "details": problems})
			return
		}
		d.mu.Lock()
		d.posts = append(d.posts, a)
		if old, ok := d.rows[a.RemediationName]; !ok || old.PhaseSequence <= a.PhaseSequence {
			d.rows[a.RemediationName] = a
		}
		d.mu.Unlock()
		writeJSON(w, http.StatusCreated, map[string]any{"remediationName": a.RemediationName})
	})
	d.srv = httptest.NewServer(mux)
	t.Cleanup(d.srv.Close)
	return d
}

// phases returns the distinct phases audited for rr (after de-duplication), in sequence order.
func (d *datastorageStandIn) phases(rr string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	seen := map[int64]string{}
	var seqs []int64
	for _, p := range d.posts {
		if p.RemediationName != rr {
			continue
		}
		if _, ok := seen[p.PhaseSequence]; !ok {
			seqs = append(seqs, p.PhaseSequence)
		}
		seen[p.PhaseSequence] = p.OverallPhase
	}
	slices.Sort(seqs)
	out := make([]string, 0, len(seqs))
	for _, s := range seqs {
		out = append(out, seen[s])
	}
	return out
}

func (d *datastorageStandIn) row(rr string) (auditapi.RemediationAudit, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.rows[rr]
	return a, ok
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
