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

func (e *env) effectiveness(signal, action string) auditapi.Effectiveness {
	e.t.Helper()
	q := url.Values{"signalName": {signal}, "action": {action}}
	code, body := e.do(http.MethodGet, auditapi.EffectivenessPath+"?"+q.Encode(), nil)
	require.Equal(e.t, http.StatusOK, code, string(body))
	return mustUnmarshal[auditapi.Effectiveness](e.t, body)
}

func TestEffectivenessOnAKnownDataSet(t *testing.T) {
	e := newEnv(t, "")
	type row struct {
		signal, phase, outcome string
		actions                []string
		dryRun                 bool
		done                   time.Duration
	}
	data := []row{
		// HighMemoryUsage + increase_resources, verified outcomes only: 3 remediated, 1 ineffective → 3/4;
		// 2 inconclusive shown apart.
		{"HighMemoryUsage", "Completed", "Remediated", []string{"increase_resources"}, false, 1 * time.Hour},
		{"HighMemoryUsage", "Completed", "Remediated", []string{"increase_resources", "restart_pod"}, false, 2 * time.Hour},
		{"HighMemoryUsage", "Completed", "Remediated", []string{"increase_resources"}, false, 3 * time.Hour},
		{"HighMemoryUsage", "Completed", "Ineffective", []string{"increase_resources"}, false, 4 * time.Hour},
		{"HighMemoryUsage", "Completed", "Inconclusive", []string{"increase_resources"}, false, 6 * time.Hour},
		{"HighMemoryUsage", "Completed", "Inconclusive", []string{"increase_resources"}, false, 7 * time.Hour},
		// Not counted: failed or timed out (the change was refused, rolled back or never verified),
		// still running, dry run, another signal.
		{"HighMemoryUsage", "Failed", "", []string{"increase_resources"}, false, 5 * time.Hour},
		{"HighMemoryUsage", "TimedOut", "", []string{"increase_resources"}, false, 9 * time.Hour},
		{"HighMemoryUsage", "Executing", "", []string{"increase_resources"}, false, 0},
		{"HighMemoryUsage", "Completed", "DryRun", []string{"increase_resources"}, true, 10 * time.Hour},
		{"PodCrashLooping", "Completed", "Remediated", []string{"increase_resources"}, false, 11 * time.Hour},
	}
	for i, d := range data {
		rec := record(fmt.Sprintf("rr-eff-%d", i))
		rec.SignalName, rec.OverallPhase, rec.Outcome = d.signal, d.phase, d.outcome
		rec.CompletionTime = nil
		if d.done > 0 {
			rec.CompletionTime = ptr(baseTime.Add(d.done))
		}
		rec.Operations = nil
		for j, a := range d.actions {
			rec.Operations = append(rec.Operations, auditapi.OperationRecord{Name: fmt.Sprintf("op-%d", j), Action: a, Target: "Deployment/prod/api", Phase: "Succeeded", DryRun: d.dryRun})
		}
		code, body := e.post(rec)
		require.Equal(t, http.StatusCreated, code, string(body))
	}

	cases := map[string]struct {
		signal, action string
		want           auditapi.Effectiveness
	}{
		"mixed history": {"HighMemoryUsage", "increase_resources", auditapi.Effectiveness{
			Total: 4, Successful: 3, Ineffective: 1, Inconclusive: 2, SuccessRate: 0.75, LastSeen: ptr(baseTime.Add(7 * time.Hour)),
		}},
		"one of two actions": {"HighMemoryUsage", "restart_pod", auditapi.Effectiveness{
			Total: 1, Successful: 1, SuccessRate: 1, LastSeen: ptr(baseTime.Add(2 * time.Hour)),
		}},
		"other signal": {"PodCrashLooping", "increase_resources", auditapi.Effectiveness{
			Total: 1, Successful: 1, SuccessRate: 1, LastSeen: ptr(baseTime.Add(11 * time.Hour)),
		}},
		"never run": {"HighMemoryUsage", "drain_node", auditapi.Effectiveness{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tc.want.SignalName, tc.want.Action = tc.signal, tc.action
			assert.Equal(t, tc.want, e.effectiveness(tc.signal, tc.action))
		})
	}

	t.Run("through the shared client", func(t *testing.T) {
		dir := t.TempDir() + "/token"
		require.NoError(t, writeFile(dir, testToken))
		got, err := auditapi.NewClient(e.api.URL, dir).Effectiveness(t.Context(), "HighMemoryUsage", "increase_resources")
		require.NoError(t, err)
		assert.Equal(t, int64(4), got.Total)
		assert.Equal(t, int64(2), got.Inconclusive)
		assert.InDelta(t, 0.75, got.SuccessRate, 1e-9)
	})

	t.Run("parameters are required", func(t *testing.T) {
		code, body := e.do(http.MethodGet, auditapi.EffectivenessPath, nil)
		require.Equal(t, http.StatusBadRequest, code)
		assert.ElementsMatch(t, []string{"signalName is required", "action is required"}, mustUnmarshal[httpapi.ErrorBody](t, body).Details)
	})
}

func TestVerificationIsStoredAndReadBack(t *testing.T) {
	e := newEnv(t, "")
	rec := record("rr-verified")
	rec.OverallPhase, rec.Outcome, rec.PhaseSequence = "Completed", "Ineffective", 8
	rec.CompletionTime = ptr(baseTime.Add(20 * time.Minute))
	change := baseTime.Add(3 * time.Minute)
	rec.Verification = &auditapi.VerificationRecord{ChangeTime: &change, Window: "15m0s",
		Conclusion: "the remediation did not help: pods-healthy: since the change, container app of pod api-7d9f-x2x is waiting in CrashLoopBackOff",
		Checks: []auditapi.VerificationCheck{
			{Name: "alert-refired", Source: "signal", Result: "Passed", Observed: "re-sent 2 time(s) since the change with its original startsAt", Time: change.Add(time.Minute)},
			{Name: "pods-healthy", Source: "cluster", Result: "Failed", Observed: "container app of pod api-7d9f-x2x is waiting in CrashLoopBackOff", Time: change.Add(5 * time.Minute)},
		}}
	code, body := e.post(rec)
	require.Equal(t, http.StatusCreated, code, string(body))
	got := e.get("rr-verified")
	assert.Equal(t, rec.Verification, got.Verification)

	// A record without verification reads back without one.
	earlier := record("rr-unverified")
	code, body = e.post(earlier)
	require.Equal(t, http.StatusCreated, code, string(body))
	assert.Nil(t, e.get("rr-unverified").Verification)

	t.Run("an invalid check is refused", func(t *testing.T) {
		bad := rec
		bad.RemediationName = "rr-bad-check"
		bad.Verification = &auditapi.VerificationRecord{Checks: []auditapi.VerificationCheck{{Name: "", Source: "cluster", Result: "Passed"}}}
		code, body := e.post(bad)
		require.Equal(t, http.StatusBadRequest, code, string(body))
		assert.Contains(t, mustUnmarshal[httpapi.ErrorBody](t, body).Details, "verification.checks[0].name is required")
	})
}
