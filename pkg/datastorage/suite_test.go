package datastorage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/kubernaut/kubernaut/internal/testutil/testpg"
	"github.com/kubernaut/kubernaut/pkg/datastorage"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/httpapi"
)

func TestMain(m *testing.M) { testpg.Main(m) }

const testToken = "s3cret-token"

// env is one datastorage API on its own database.
type env struct {
	t      testing.TB
	pool   *pgxpool.Pool
	srv    *datastorage.Server
	api    *httptest.Server
	health *httptest.Server
}

// newEnv migrates a fresh database (or the given one) and serves the API with token-file auth.
func newEnv(t testing.TB, dsn string) *env {
	t.Helper()
	if dsn == "" {
		dsn = testpg.Start(t)
	}
	ctx := context.Background()
	pool, err := datastorage.OpenPool(ctx, dsn, 20)
	require.NoError(t, err)
	t.Cleanup(func() { datastorage.ClosePool(pool) })
	_, err = datastorage.Migrate(ctx, pool)
	require.NoError(t, err)
	tokenFile := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(tokenFile, []byte("# callers\n"+testToken+"\n"), 0o600))
	srv := &datastorage.Server{
		Store:        datastorage.NewStore(pool, 0),
		Auth:         &httpapi.TokenFile{Path: tokenFile},
		MaxBodyBytes: 64 << 10,
		QueryTimeout: 3 * time.Second,
		Log:          logFor(t),
	}
	srv.SetMigrated()
	e := &env{t: t, pool: pool, srv: srv, api: httptest.NewServer(srv.Handler()), health: httptest.NewServer(srv.HealthHandler())}
	t.Cleanup(e.api.Close)
	t.Cleanup(e.health.Close)
	return e
}

// logFor discards logs: handlers may still log while a test's cleanup runs.
func logFor(testing.TB) logr.Logger { return logr.Discard() }

// do sends a request with the test token and returns the status and body.
func (e *env) do(method, path string, body any) (int, []byte) {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(e.t, err)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.api.URL+path, r)
	require.NoError(e.t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return resp.StatusCode, out
}

func (e *env) post(a auditapi.RemediationAudit) (int, []byte) {
	e.t.Helper()
	return e.do(http.MethodPost, auditapi.RemediationPath, a)
}

func (e *env) get(name string) auditapi.RemediationAudit {
	e.t.Helper()
	code, body := e.do(http.MethodGet, auditapi.RemediationPath+"/"+name, nil)
	require.Equal(e.t, http.StatusOK, code, string(body))
	var a auditapi.RemediationAudit
	require.NoError(e.t, json.Unmarshal(body, &a))
	return a
}

var baseTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// record is a complete, valid audit record.
func record(name string) auditapi.RemediationAudit {
	start := baseTime
	done := baseTime.Add(4 * time.Minute)
	decided := baseTime.Add(time.Minute)
	return auditapi.RemediationAudit{
		AlertFingerprint: "fp-" + name,
		RemediationName:  name,
		Namespace:        "prod",
		SignalName:       "HighMemoryUsage",
		Severity:         "critical",
		Environment:      "production",
		Priority:         "P1",
		TargetResource:   "Deployment/prod/api",
		OverallPhase:     "Executing",
		StartTime:        start,
		ServiceCRDStatuses: []auditapi.ServiceCRDStatus{
			{ServiceType: "RemediationProcessing", CRDName: name + "-processing", Phase: "Completed", StartTime: start, CompletionTime: &done},
			{ServiceType: "AIAnalysis", CRDName: name + "-analysis", Phase: "Completed", StartTime: start},
		},
		Approval: &auditapi.ApprovalRecord{Required: true, Decision: "Approved", DecidedBy: "alice", DecidedAt: &decided},
		Operations: []auditapi.OperationRecord{
			{Name: "increase-memory", Action: "increase_resources", Target: "Deployment/prod/api", Params: map[string]string{"memory": "512Mi"}, Phase: "Running"},
		},
		PhaseSequence: 5,
	}
}

func mustUnmarshal[T any](t testing.TB, body []byte) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(body, &v), string(body))
	return v
}

func names(items []*auditapi.RemediationAudit) []string {
	out := make([]string, 0, len(items))
	for _, a := range items {
		out = append(out, a.RemediationName)
	}
	return out
}

func listPath(q string) string { return fmt.Sprintf("%s?%s", auditapi.RemediationPath, q) }

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content+"\n"), 0o600) }
