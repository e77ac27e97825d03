package datastorage

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/httpapi"
)

// environments are the values of a remediation's environment.
var environments = []string{"production", "staging", "development", "test", "unknown"}

// TrackRecord is the verified record of an action in an environment since a time, across all
// signals (the autonomy an action may earn there is judged on it): among the Completed records
// that ran the action for real (not as a dry run) and completed since then, Remediated ones are
// successes and Ineffective ones failures; Inconclusive ones are counted apart.
func (s *Store) TrackRecord(ctx context.Context, action, environment string, since time.Time) (auditapi.TrackRecord, error) {
	out := auditapi.TrackRecord{Action: action, Environment: environment, Since: since.UTC()}
	err := observe("track_record", func() error {
		return s.pool.QueryRow(ctx, `
SELECT count(*) FILTER (WHERE outcome = 'Remediated'),
       count(*) FILTER (WHERE outcome = 'Ineffective'),
       count(*) FILTER (WHERE outcome = 'Inconclusive'),
       max(coalesce(completion_time, updated_at))
FROM remediation_audit
WHERE environment = $2
  AND coalesce(completion_time, updated_at) >= $3
  AND overall_phase = 'Completed' AND outcome IN ('Remediated', 'Ineffective', 'Inconclusive')
  AND EXISTS (SELECT 1 FROM jsonb_array_elements(operations) o
              WHERE o->>'action' = $1::text AND NOT coalesce((o->>'dryRun')::boolean, false))`,
			action, environment, since).Scan(&out.Remediated, &out.Ineffective, &out.Inconclusive, &out.LastSeen)
	})
	if err != nil {
		return out, fmt.Errorf("reading the track record of %s in %s: %w", action, environment, err)
	}
	if out.LastSeen != nil {
		t := out.LastSeen.UTC()
		out.LastSeen = &t
	}
	return out, nil
}

// trackRecord serves GET /api/v1/track-record?action=&environment=&since= (since: RFC 3339,
// default 30 days ago).
func (s *Server) trackRecord(w http.ResponseWriter, r *http.Request) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		httpapi.WriteError(w, http.StatusBadRequest, "malformed query string", err.Error())
		return
	}
	var p []string
	action, env := v.Get("action"), v.Get("environment")
	if action == "" {
		p = append(p, "action is required")
	} else if msg := checkText("action", action, maxFilterLength); msg != "" {
		p = append(p, msg)
	}
	if !slices.Contains(environments, env) {
		p = append(p, fmt.Sprintf("environment must be one of %v, not %q", environments, env))
	}
	since := time.Now().Add(-30 * 24 * time.Hour)
	if raw := v.Get("since"); raw != "" {
		if since, err = time.Parse(time.RFC3339, raw); err != nil {
			p = append(p, "since must be an RFC 3339 time: "+err.Error())
		}
	}
	if len(p) > 0 {
		httpapi.WriteError(w, http.StatusBadRequest, "invalid parameters", p...)
		return
	}
	out, err := s.Store.TrackRecord(r.Context(), action, env, since)
	if err != nil {
		s.dbError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}
