package datastorage_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/httpapi"
)

// TestTrackRecordOnAKnownDataSet checks the record an action's autonomy is judged on: verified
// outcomes of real runs in one environment, across signals, since a time.
func TestTrackRecordOnAKnownDataSet(t *testing.T) {
	e := newEnv(t, "")
	type row struct {
		env, phase, outcome, signal string
		dryRun                      bool
		done                        time.Duration
	}
	data := []row{
		// production, within the window: 3 remediated (two signals), 1 ineffective, 1 inconclusive.
		{"production", "Completed", "Remediated", "HighMemoryUsage", false, 10 * 24 * time.Hour},
		{"production", "Completed", "Remediated", "KubePodCrashLooping", false, 11 * 24 * time.Hour},
		{"production", "Completed", "Remediated", "HighMemoryUsage", false, 12 * 24 * time.Hour},
		{"production", "Completed", "Ineffective", "HighMemoryUsage", false, 13 * 24 * time.Hour},
		{"production", "Completed", "Inconclusive", "HighMemoryUsage", false, 14 * 24 * time.Hour},
		// Not counted: before the window, dry run, failed, another environment.
		{"production", "Completed", "Remediated", "HighMemoryUsage", false, 1 * 24 * time.Hour},
		{"production", "Completed", "DryRun", "HighMemoryUsage", true, 15 * 24 * time.Hour},
		{"production", "Failed", "", "HighMemoryUsage", false, 16 * 24 * time.Hour},
		{"staging", "Completed", "Remediated", "HighMemoryUsage", false, 17 * 24 * time.Hour},
	}
	for i, d := range data {
		rec := record(fmt.Sprintf("rr-track-%d", i))
		rec.Environment, rec.OverallPhase, rec.Outcome, rec.SignalName = d.env, d.phase, d.outcome, d.signal
		rec.CompletionTime = ptr(baseTime.Add(d.done))
		rec.Operations = []auditapi.OperationRecord{{Name: "op", Action: "increase_resources", Target: "Deployment/prod/api", Phase: "Succeeded", DryRun: d.dryRun}}
		code, body := e.post(rec)
		require.Equal(t, http.StatusCreated, code, string(body))
	}
	since := baseTime.Add(5 * 24 * time.Hour)
	get := func(action, env string) auditapi.TrackRecord {
		q := url.Values{"action": {action}, "environment": {env}, "since": {since.Format(time.RFC3339)}}
		code, body := e.do(http.MethodGet, auditapi.TrackRecordPath+"?"+q.Encode(), nil)
		require.Equal(t, http.StatusOK, code, string(body))
		return mustUnmarshal[auditapi.TrackRecord](t, body)
	}

	got := get("increase_resources", "production")
	assert.Equal(t, auditapi.TrackRecord{Action: "increase_resources", Environment: "production", Since: since,
		Remediated: 3, Ineffective: 1, Inconclusive: 1, LastSeen: ptr(baseTime.Add(14 * 24 * time.Hour))}, got)
	assert.Equal(t, int64(4), got.Outcomes(), "inconclusive outcomes are shown, never counted")
	assert.Equal(t, int64(1), get("increase_resources", "staging").Remediated)
	assert.Zero(t, get("rollback_deployment", "production").Outcomes())

	t.Run("through the shared client", func(t *testing.T) {
		tok := t.TempDir() + "/token"
		require.NoError(t, writeFile(tok, testToken))
		rec, err := auditapi.NewClient(e.api.URL, tok).TrackRecord(t.Context(), "increase_resources", "production", since)
		require.NoError(t, err)
		assert.Equal(t, int64(3), rec.Remediated)
	})

	t.Run("bad parameters", func(t *testing.T) {
		code, body := e.do(http.MethodGet, auditapi.TrackRecordPath+"?environment=prod&since=yesterday", nil)
		require.Equal(t, http.StatusBadRequest, code)
		assert.Len(t, mustUnmarshal[httpapi.ErrorBody](t, body).Details, 3, string(body))
	})
}
