// Package apistandin stands in for Kubernaut's own HTTP services where a controller test calls
// them: notification's escalation API accepts every escalation, datastorage's audit API checks
// records with datastorage's own rules, and its effectiveness API answers as scripted.
package apistandin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/kubernaut/kubernaut/pkg/datastorage"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

// Services is a stand-in for notification and datastorage: escalations are accepted, audit
// records are checked with datastorage's own rules, effectiveness answers are scripted.
type Services struct {
	Srv *httptest.Server
	Mu  sync.Mutex
	// Eff is the effectiveness answered by action (guarded by Mu).
	Eff map[string]auditapi.Effectiveness
	// Down makes the effectiveness API answer 503 (guarded by Mu).
	Down bool
}

// New starts the stand-in, closed when the test ends.
func New(t testing.TB) *Services {
	s := &Services{Eff: map[string]auditapi.Effectiveness{}}
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("POST "+notificationapi.EscalationPath, func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusAccepted, notificationapi.EscalationResponse{NotificationName: "x"})
	})
	mux.HandleFunc("POST "+auditapi.RemediationPath, func(w http.ResponseWriter, r *http.Request) {
		var a auditapi.RemediationAudit
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
			reply(w, http.StatusBadRequest, map[string]any{"error": "malformed JSON"})
			return
		}
		if p := datastorage.ValidateAudit(&a); len(p) > 0 {
			reply(w, http.StatusBadRequest, map[string]any{"error": "invalid audit record", "details": p})
			return
		}
		reply(w, http.StatusCreated, map[string]any{})
	})
	mux.HandleFunc("GET "+auditapi.EffectivenessPath, func(w http.ResponseWriter, r *http.Request) {
		s.Mu.Lock()
		defer s.Mu.Unlock()
		if s.Down {
			reply(w, http.StatusServiceUnavailable, map[string]any{"error": "database unavailable"})
			return
		}
		q := r.URL.Query()
		if q.Get("signalName") == "" || q.Get("action") == "" {
			reply(w, http.StatusBadRequest, map[string]any{"error": "signalName and action are required"})
			return
		}
		e := s.Eff[q.Get("action")]
		e.SignalName, e.Action = q.Get("signalName"), q.Get("action")
		reply(w, http.StatusOK, e)
	})
	s.Srv = httptest.NewServer(mux)
	t.Cleanup(s.Srv.Close)
	return s
}
