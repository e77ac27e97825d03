package aianalysis_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/internal/testutil/testpg"
	"github.com/kubernaut/kubernaut/pkg/aianalysis"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
	"github.com/kubernaut/kubernaut/pkg/datastorage"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/httpapi"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// datastorageService is a real datastorage API on its own PostgreSQL database, with bearer
// token auth; client sends the token as aianalysis does (--service-token-file).
type datastorageService struct {
	srv    *httptest.Server
	client *auditapi.Client
}

func startDatastorage(t testing.TB) *datastorageService {
	t.Helper()
	ctx := context.Background()
	pool, err := datastorage.OpenPool(ctx, testpg.Start(t), 5)
	require.NoError(t, err)
	t.Cleanup(func() { datastorage.ClosePool(pool) })
	_, err = datastorage.Migrate(ctx, pool)
	require.NoError(t, err)
	dir := t.TempDir()
	tokens, token := filepath.Join(dir, "tokens"), filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokens, []byte("s3cret\n"), 0o600))
	require.NoError(t, os.WriteFile(token, []byte("s3cret\n"), 0o600))
	api := &datastorage.Server{Store: datastorage.NewStore(pool, 0), Auth: &httpapi.TokenFile{Path: tokens}, MaxBodyBytes: 64 << 10,
		QueryTimeout: 3 * time.Second, Log: logr.Discard()}
	api.SetMigrated()
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return &datastorageService{srv: srv, client: auditapi.NewClient(srv.URL, token)}
}

// remediated posts the audit record the orchestrator writes when remediation name of the target
// Deployment shop/web (fingerprint fp) has completed: ops ran at completed.
func (d *datastorageService) remediated(t testing.TB, fp, name string, completed time.Time, ops ...auditapi.OperationRecord) {
	t.Helper()
	d.remediatedWith(t, fp, name, completed, "Remediated", ops...)
}

// remediatedWith is remediated with the verified outcome given.
func (d *datastorageService) remediatedWith(t testing.TB, fp, name string, completed time.Time, outcome string, ops ...auditapi.OperationRecord) {
	t.Helper()
	start, done := completed.Add(-5*time.Minute).UTC(), completed.UTC()
	require.NoError(t, d.client.PostRemediation(context.Background(), auditapi.RemediationAudit{
		AlertFingerprint: fp, RemediationName: name, Namespace: "kubernaut-system", SignalName: "KubePodOOMKilled", Severity: "warning",
		Environment: "production", Priority: "P1", TargetResource: "Deployment/shop/web", OverallPhase: "Completed", Outcome: outcome,
		StartTime: start, CompletionTime: &done, PhaseSequence: 9,
		ServiceCRDStatuses: []auditapi.ServiceCRDStatus{{ServiceType: "KubernetesExecution", CRDName: name + "-execution", Phase: "Completed", StartTime: start, CompletionTime: &done}},
		Operations:         ops,
	}))
}

func increaseMemory(target string, phase kev1.OperationPhase, dryRun bool) auditapi.OperationRecord {
	return auditapi.OperationRecord{Name: "increase-memory", Action: "increase_resources", Target: target,
		Params: map[string]string{"container": "app", "memory": "192Mi", "memoryLimit": "384Mi"}, Phase: string(phase), DryRun: dryRun}
}

// TestRepeatAction: Kubernaut's own earlier changes to the target, read from a real datastorage
// (the orchestrator's audit records), decide whether the same action may be recommended again.
func TestRepeatAction(t *testing.T) {
	env := testenv.Start(t)
	ds := startDatastorage(t)
	withHistory := func(window time.Duration) func(*aianalysis.Reconciler) {
		return func(r *aianalysis.Reconciler) {
			r.RepeatWindow, r.Changes = window, &aianalysis.DatastorageHistory{Client: ds.client}
		}
	}
	signal := func(fp string) aiv1.SignalContext {
		s := inStaging(oomSignal()) // production's gate is tested apart: here a person is asked only for the repeat rule's reasons
		s.Fingerprint = fp
		return s
	}

	t.Run("increase_resources on the same Deployment 2h ago → manual review that says so, no ratchet", func(t *testing.T) {
		fp := strings.Repeat("1", 64)
		doneAt := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
		ds.remediated(t, fp, "rr-earlier", doneAt, increaseMemory("Deployment/shop/web", kev1.OperationSucceeded, false))
		before := counter(t, "kubernaut_aianalysis_repeat_actions_total", "increase_resources")
		h := newHarness(t, env, investigator.NewBuiltin(), withHistory(aianalysis.DefaultRepeatWindow))
		h.createAnalysis("oom", signal(fp), false)
		a := h.waitPhase("oom", aiv1.PhaseCompleted)
		assert.Equal(t, aiv1.ReasonManualReviewRequired, readyReason(a))
		assert.Equal(t, aiv1.OutcomeManualReviewRequired, a.Status.Outcome)
		assert.Empty(t, a.Status.Recommendations, "nothing is planned")
		assert.Contains(t, a.Status.ManualReviewReason, "increase_resources was applied to Deployment/shop/web at "+doneAt.UTC().Format(time.RFC3339)+" (remediation rr-earlier, Succeeded, outcome Remediated)")
		assert.Contains(t, a.Status.ManualReviewReason, "a repeat would ratchet")
		assert.Contains(t, a.Status.RootCause, "OOMKilled", "the diagnosis is kept for the person")
		assert.Equal(t, before+1, counter(t, "kubernaut_aianalysis_repeat_actions_total", "increase_resources"))
	})

	t.Run("dry runs, refused operations and other targets are not repeats → recommended without a person", func(t *testing.T) {
		fp := strings.Repeat("2", 64)
		ds.remediated(t, fp, "rr-dry", time.Now().Add(-time.Hour), increaseMemory("Deployment/shop/web", kev1.OperationSucceeded, true))
		ds.remediated(t, fp, "rr-refused", time.Now().Add(-50*time.Minute), increaseMemory("Deployment/shop/web", kev1.OperationRefused, false))
		ds.remediated(t, fp, "rr-api", time.Now().Add(-40*time.Minute), increaseMemory("Deployment/shop/api", kev1.OperationSucceeded, false))
		h := newHarness(t, env, investigator.NewBuiltin(), withHistory(aianalysis.DefaultRepeatWindow))
		h.createAnalysis("oom", signal(fp), false)
		a := h.waitPhase("oom", aiv1.PhaseCompleted)
		assert.Equal(t, aiv1.ReasonAnalyzed, readyReason(a))
		require.NotEmpty(t, a.Status.Recommendations)
		assert.Equal(t, "increase_resources", a.Status.Recommendations[0].Action)
		assert.False(t, a.Status.Approval.Required)
		ev := strings.Join(a.Status.Evidence, "\n")
		assert.Contains(t, ev, "history: Kubernaut ran increase_resources on Deployment/shop/api", "the trail is cited")
		assert.NotContains(t, ev, "rr-dry")
		assert.NotContains(t, ev, "rr-refused")
	})

	t.Run("the same change before the window → recommended", func(t *testing.T) {
		fp := strings.Repeat("3", 64)
		ds.remediated(t, fp, "rr-long-ago", time.Now().Add(-3*time.Hour), increaseMemory("Deployment/shop/web", kev1.OperationSucceeded, false))
		h := newHarness(t, env, investigator.NewBuiltin(), withHistory(time.Hour))
		h.createAnalysis("oom", signal(fp), false)
		a := h.waitPhase("oom", aiv1.PhaseCompleted)
		assert.Equal(t, aiv1.ReasonAnalyzed, readyReason(a))
		assert.Contains(t, strings.Join(a.Status.Evidence, "\n"), "Kubernaut changed nothing on the targets of this signal in the last 1h")
	})

	t.Run("the same change found Ineffective 3 days ago → manual review, whatever the repeat window", func(t *testing.T) {
		fp := strings.Repeat("5", 64)
		doneAt := time.Now().Add(-72 * time.Hour).Truncate(time.Second)
		ds.remediatedWith(t, fp, "rr-ineffective", doneAt, "Ineffective", increaseMemory("Deployment/shop/web", kev1.OperationSucceeded, false))
		h := newHarness(t, env, investigator.NewBuiltin(), withHistory(time.Hour))
		h.createAnalysis("oom", signal(fp), false)
		a := h.waitPhase("oom", aiv1.PhaseCompleted)
		assert.Equal(t, aiv1.ReasonManualReviewRequired, readyReason(a))
		assert.Contains(t, a.Status.ManualReviewReason, "verification found it Ineffective: the same action on the same target did not help then")
	})

	t.Run("history unreadable → the recommendation waits for a person, and says why", func(t *testing.T) {
		down := auditapi.NewClient("http://127.0.0.1:1", "")
		h := newHarness(t, env, investigator.NewBuiltin(), func(r *aianalysis.Reconciler) {
			r.RepeatWindow, r.Changes = aianalysis.DefaultRepeatWindow, &aianalysis.DatastorageHistory{Client: down}
		})
		h.createAnalysis("oom", signal(strings.Repeat("4", 64)), false)
		a := h.waitPhase("oom", aiv1.PhaseApproving)
		require.NotEmpty(t, a.Status.Evidence)
		assert.True(t, strings.HasPrefix(a.Status.Evidence[0], investigator.HistoryUnknownEvidence), a.Status.Evidence[0])
		assert.Contains(t, a.Status.Evidence[0], "datastorage:")
		assert.InDelta(t, 0.9, a.Status.Confidence, 1e-9, "the facts are as strong as ever")
		assert.Equal(t, "Kubernaut's recent changes to the target could not be read: a repeat of the same action cannot be ruled out", a.Status.Approval.Reason)
	})
}

// BenchmarkHistoryRead is the look-up each investigation makes before it runs: the remediations of
// one fingerprint in the last 7h, from a real datastorage on PostgreSQL holding 20 of them (and
// 200 of other targets).
func BenchmarkHistoryRead(b *testing.B) {
	ds := startDatastorage(b)
	fp := strings.Repeat("5", 64)
	for i := range 220 {
		f := fp
		if i >= 20 {
			f = fmt.Sprintf("%064x", i)
		}
		ds.remediated(b, f, fmt.Sprintf("rr-%d", i), time.Now().Add(-time.Duration(i)*time.Minute), increaseMemory("Deployment/shop/web", kev1.OperationSucceeded, false))
	}
	h := &aianalysis.DatastorageHistory{Client: ds.client}
	since := time.Now().Add(-7 * time.Hour)
	b.ResetTimer()
	for b.Loop() {
		recs, err := h.Remediations(context.Background(), fp, since)
		if err != nil || len(recs) != 20 {
			b.Fatalf("%d records, %v", len(recs), err)
		}
	}
}
