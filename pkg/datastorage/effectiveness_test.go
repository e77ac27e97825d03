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
		// HighMemoryUsage + increase_resources: 3 remediated, 1 ineffective, 1 failed, 1 timed out → 3/6.
		{"HighMemoryUsage", "Completed", "Remediated", []string{"increase_resources"}, false, 1 * time.Hour},
		{"HighMemoryUsage", "Completed", "Remediated", []string{"increase_resources", "restart_pod"}, false, 2 * time.Hour},
		{"HighMemoryUsage", "Completed", "Remediated", []string{"increase_resources"}, false, 3 * time.Hour},
		{"HighMemoryUsage", "Completed", "Ineffective", []string{"increase_resources"}, false, 4 * time.Hour},
		{"HighMemoryUsage", "Failed", "", []string{"increase_resources"}, false, 5 * time.Hour},
		{"HighMemoryUsage", "TimedOut", "", []string{"increase_resources"}, false, 9 * time.Hour},
		// Not counted: still running, dry run, another signal.
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
			Total: 6, Successful: 3, SuccessRate: 0.5, LastSeen: ptr(baseTime.Add(9 * time.Hour)),
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
		assert.Equal(t, int64(6), got.Total)
		assert.InDelta(t, 0.5, got.SuccessRate, 1e-9)
	})

	t.Run("parameters are required", func(t *testing.T) {
		code, body := e.do(http.MethodGet, auditapi.EffectivenessPath, nil)
		require.Equal(t, http.StatusBadRequest, code)
		assert.ElementsMatch(t, []string{"signalName is required", "action is required"}, mustUnmarshal[httpapi.ErrorBody](t, body).Details)
	})
}
