package datastorage_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubernaut/kubernaut/pkg/datastorage"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/httpapi"
)

func TestUpsertIsIdempotent(t *testing.T) {
	e := newEnv(t, "")
	rec := record("rr-idem")

	code, body := e.post(rec)
	require.Equal(t, http.StatusCreated, code, string(body))
	assert.Equal(t, datastorage.UpsertResponse{RemediationName: "rr-idem", Result: datastorage.Created}, mustUnmarshal[datastorage.UpsertResponse](t, body))
	for range 3 {
		code, body = e.post(rec)
		require.Equal(t, http.StatusOK, code, string(body))
		assert.Equal(t, datastorage.Updated, mustUnmarshal[datastorage.UpsertResponse](t, body).Result)
	}
	assert.Empty(t, cmp.Diff(rec, e.get("rr-idem")))

	var rows, statuses int
	require.NoError(t, e.pool.QueryRow(t.Context(), "SELECT count(*) FROM remediation_audit").Scan(&rows))
	require.NoError(t, e.pool.QueryRow(t.Context(), "SELECT count(*) FROM service_crd_status").Scan(&statuses))
	assert.Equal(t, 1, rows)
	assert.Equal(t, 2, statuses)

	// A later phase with the same sequence is a retry with new content: it replaces the record.
	rec.OverallPhase, rec.Outcome = "Completed", "Remediated"
	rec.CompletionTime = ptr(baseTime.Add(10 * time.Minute))
	rec.PhaseSequence = 6
	code, body = e.post(rec)
	require.Equal(t, http.StatusOK, code, string(body))
	assert.Empty(t, cmp.Diff(rec, e.get("rr-idem")))
}

func TestGetUnknownRemediationIsNotFound(t *testing.T) {
	e := newEnv(t, "")
	code, body := e.do(http.MethodGet, auditapi.RemediationPath+"/does-not-exist", nil)
	assert.Equal(t, http.StatusNotFound, code)
	assert.Contains(t, string(body), "does-not-exist")
}

func TestConcurrentPostsForOneRemediationKeepEveryServiceStatus(t *testing.T) {
	e := newEnv(t, "")
	types := []string{"RemediationProcessing", "AIAnalysis", "AIApprovalRequest", "WorkflowExecution", "KubernetesExecution", "NotificationRequest"}
	const posts = 20
	var wg sync.WaitGroup
	start := make(chan struct{})
	codes := make([]int, posts)
	for i := range posts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := record("rr-concurrent")
			rec.PhaseSequence = int64(i + 1)
			rec.OverallPhase = []string{"Processing", "Analyzing", "Planning", "Executing"}[i%4]
			rec.ServiceCRDStatuses = []auditapi.ServiceCRDStatus{{
				ServiceType: types[i%len(types)], CRDName: fmt.Sprintf("child-%d", i), Phase: fmt.Sprintf("Phase%d", i+1), StartTime: baseTime,
			}}
			<-start
			codes[i], _ = e.post(rec)
		}()
	}
	close(start)
	wg.Wait()
	for i, c := range codes {
		assert.Contains(t, []int{http.StatusCreated, http.StatusOK}, c, "post %d", i)
	}

	got := e.get("rr-concurrent")
	assert.Equal(t, int64(posts), got.PhaseSequence, "the newest post's record wins")
	assert.Equal(t, "Executing", got.OverallPhase)
	// Each service type keeps the status of the newest post that carried it.
	want := map[string]string{}
	for i := range posts {
		want[types[i%len(types)]] = fmt.Sprintf("Phase%d", i+1)
	}
	gotPhases := map[string]string{}
	for _, s := range got.ServiceCRDStatuses {
		gotPhases[s.ServiceType] = s.Phase
	}
	assert.Equal(t, want, gotPhases)
}

func TestOlderPhaseNeverOverwritesNewer(t *testing.T) {
	e := newEnv(t, "")
	newer := record("rr-order")
	newer.OverallPhase, newer.PhaseSequence = "Executing", 7
	newer.ServiceCRDStatuses = []auditapi.ServiceCRDStatus{
		{ServiceType: "AIAnalysis", CRDName: "rr-order-analysis", Phase: "Completed", StartTime: baseTime},
		{ServiceType: "WorkflowExecution", CRDName: "rr-order-workflow", Phase: "Completed", StartTime: baseTime},
	}
	code, body := e.post(newer)
	require.Equal(t, http.StatusCreated, code, string(body))

	older := record("rr-order")
	older.OverallPhase, older.PhaseSequence = "Analyzing", 3
	older.Operations, older.Approval = nil, nil
	older.ServiceCRDStatuses = []auditapi.ServiceCRDStatus{
		{ServiceType: "AIAnalysis", CRDName: "rr-order-analysis", Phase: "Investigating", StartTime: baseTime},
		// A status the newer post did not carry is still recorded.
		{ServiceType: "RemediationProcessing", CRDName: "rr-order-processing", Phase: "Completed", StartTime: baseTime},
	}
	code, body = e.post(older)
	require.Equal(t, http.StatusOK, code, string(body))
	assert.Equal(t, datastorage.Stale, mustUnmarshal[datastorage.UpsertResponse](t, body).Result)

	got := e.get("rr-order")
	assert.Equal(t, "Executing", got.OverallPhase)
	assert.Equal(t, int64(7), got.PhaseSequence)
	assert.Equal(t, newer.Operations, got.Operations)
	assert.Equal(t, newer.Approval, got.Approval)
	phases := map[string]string{}
	for _, s := range got.ServiceCRDStatuses {
		phases[s.ServiceType] = s.Phase
	}
	assert.Equal(t, map[string]string{"AIAnalysis": "Completed", "WorkflowExecution": "Completed", "RemediationProcessing": "Completed"}, phases)
}

func TestPostValidationListsEveryProblem(t *testing.T) {
	e := newEnv(t, "")
	cases := map[string]struct {
		body    string
		details []string
	}{
		"empty object": {
			body:    `{}`,
			details: []string{"remediationName is required", "alertFingerprint is required", "overallPhase is required", "startTime is required"},
		},
		"bad phase, status and operation": {
			body: `{"remediationName":"rr","alertFingerprint":"fp","overallPhase":"Dancing","startTime":"2026-03-01T12:00:00Z","phaseSequence":-1,
				"serviceCrdStatuses":[{"serviceType":"Pod","crdName":"","phase":"x","startTime":"2026-03-01T12:00:00Z"},
				{"serviceType":"AIAnalysis","crdName":"a","phase":"x","startTime":"2026-03-01T12:00:00Z"},
				{"serviceType":"AIAnalysis","crdName":"b","phase":"y"}],
				"operations":[{"name":"op"}]}`,
			details: []string{
				`overallPhase "Dancing" is not a RemediationRequest phase`,
				"phaseSequence must not be negative",
				`serviceCrdStatuses[0].serviceType "Pod" is not a known service type`,
				"serviceCrdStatuses[0].crdName is required",
				`serviceCrdStatuses[2].serviceType "AIAnalysis" appears more than once`,
				"serviceCrdStatuses[2].startTime is required",
				"operations[0].action is required",
				"operations[0].phase is required",
			},
		},
		"NUL and bad times": {
			body: `{"remediationName":"rr\u0000x","alertFingerprint":"fp","overallPhase":"Pending","startTime":"2026-03-01T12:00:00Z","completionTime":"2026-03-01T11:00:00Z"}`,
			details: []string{
				"remediationName contains a NUL character",
				"completionTime is before startTime",
			},
		},
		"name too long": {
			body:    `{"remediationName":"` + strings.Repeat("a", 254) + `","alertFingerprint":"fp","overallPhase":"Pending","startTime":"2026-03-01T12:00:00Z"}`,
			details: []string{"remediationName is longer than 253 bytes"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, body := e.do(http.MethodPost, auditapi.RemediationPath, []byte(tc.body))
			require.Equal(t, http.StatusBadRequest, code, string(body))
			got := mustUnmarshal[httpapi.ErrorBody](t, body)
			assert.Equal(t, "invalid audit record", got.Error)
			assert.ElementsMatch(t, tc.details, got.Details)
		})
	}

	t.Run("malformed JSON", func(t *testing.T) {
		code, body := e.do(http.MethodPost, auditapi.RemediationPath, []byte(`{"remediationName":`))
		assert.Equal(t, http.StatusBadRequest, code)
		assert.Equal(t, "malformed JSON", mustUnmarshal[httpapi.ErrorBody](t, body).Error)
	})
}

func TestOversizeBodyIs413(t *testing.T) {
	e := newEnv(t, "")
	rec := record("rr-big")
	rec.FailureReason = ptr(strings.Repeat("x", 70<<10))
	code, body := e.post(rec)
	assert.Equal(t, http.StatusRequestEntityTooLarge, code, string(body))
	code, _ = e.do(http.MethodGet, auditapi.RemediationPath+"/rr-big", nil)
	assert.Equal(t, http.StatusNotFound, code, "nothing stored")
}

func TestAPIRequiresBearerToken(t *testing.T) {
	e := newEnv(t, "")
	cases := map[string]struct {
		method, path, auth string
	}{
		"post without token":       {http.MethodPost, auditapi.RemediationPath, ""},
		"post with wrong token":    {http.MethodPost, auditapi.RemediationPath, "Bearer nope"},
		"post with basic auth":     {http.MethodPost, auditapi.RemediationPath, "Basic dXNlcjpwYXNz"},
		"list without token":       {http.MethodGet, auditapi.RemediationPath, ""},
		"effectiveness, bad token": {http.MethodGet, auditapi.EffectivenessPath + "?signalName=a&action=b", "Bearer nope"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, e.api.URL+tc.path, strings.NewReader(`{}`))
			require.NoError(t, err)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		})
	}
}

// Concurrent upserts are grouped into shared statements; each caller still gets its own
// result, a record that the database refuses fails alone, and a second write of a remediation
// in the same burst is applied after the first.
func TestConcurrentUpsertsOfManyRemediations(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	const n = 60
	var wg sync.WaitGroup
	results := make([]datastorage.UpsertResult, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := record(fmt.Sprintf("rr-many-%02d", i))
			switch i {
			case 7:
				rec.SignalName = "bad\x00name" // PostgreSQL text cannot hold NUL
			case 8, 9:
				rec.RemediationName = "rr-many-shared"
				rec.PhaseSequence = int64(i)
			}
			results[i], errs[i] = e.srv.Store.UpsertRemediation(ctx, &rec)
		}()
	}
	wg.Wait()
	for i := range n {
		switch i {
		case 7:
			require.Error(t, errs[i], "the record with a NUL byte")
		case 8, 9:
			require.NoError(t, errs[i])
		default:
			require.NoError(t, errs[i], "record %d", i)
			assert.Equal(t, datastorage.Created, results[i], "record %d", i)
		}
	}
	// Whichever of the two writes of rr-many-shared ran first created it.
	assert.Contains(t, []datastorage.UpsertResult{results[8], results[9]}, datastorage.Created)
	shared, err := e.srv.Store.GetRemediation(ctx, "rr-many-shared")
	require.NoError(t, err)
	assert.Equal(t, int64(9), shared.PhaseSequence, "the newer of the two writes wins whatever their order")
	for i := range n {
		if i == 7 || i == 8 || i == 9 {
			continue
		}
		got, err := e.srv.Store.GetRemediation(ctx, fmt.Sprintf("rr-many-%02d", i))
		require.NoError(t, err)
		assert.Len(t, got.ServiceCRDStatuses, 2)
	}
	_, err = e.srv.Store.GetRemediation(ctx, "rr-many-07")
	assert.ErrorIs(t, err, datastorage.ErrNotFound)
}
