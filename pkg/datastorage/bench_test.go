package datastorage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kubernaut/kubernaut/internal/testutil/loadtest"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
)

// Benchmarks compare audit upserts through the HTTP API (JSON, token auth, validation, upsert of
// the record and its two service statuses in one round trip) with the ceiling: a raw pgx
// single-row INSERT of the same audit row into the same table on the same database.
//
//	go test ./pkg/datastorage/ -run '^$' -bench UpsertVsCeiling -benchtime 4s   (interleaved, the figure to quote)
//	go test ./pkg/datastorage/ -run '^$' -bench . -benchtime 3s
//
// Each reports ops/s and the p99 latency of one call.

var benchSeq atomic.Int64

func BenchmarkAuditUpsert(b *testing.B) {
	for _, clients := range []int{1, 16} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			run(b, clients, apiUpsert(newEnv(b, "")))
		})
	}
}

// apiUpsert posts a new audit record through the HTTP API.
func apiUpsert(e *env) func() error { return post(e.api.URL + auditapi.RemediationPath) }

// httpFloor posts the same request to a server that only reads the body and answers 201: the
// cost of the HTTP hop alone on this machine.
func httpFloor(b *testing.B) func() error {
	floor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"result":"created"}`)
	}))
	b.Cleanup(floor.Close)
	return post(floor.URL + auditapi.RemediationPath)
}

// post sends a new audit record to url as the orchestrator does.
func post(url string) func() error {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
	return func() error {
		rec := record(fmt.Sprintf("bench-%d", benchSeq.Add(1)))
		body, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
}

// BenchmarkStoreUpsert is the database part of BenchmarkAuditUpsert alone (no HTTP).
func BenchmarkStoreUpsert(b *testing.B) {
	for _, clients := range []int{1, 16} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			e := newEnv(b, "")
			ctx := context.Background()
			run(b, clients, func() error {
				rec := record(fmt.Sprintf("store-%d", benchSeq.Add(1)))
				_, err := e.srv.Store.UpsertRemediation(ctx, &rec)
				return err
			})
		})
	}
}

func BenchmarkRawInsertCeiling(b *testing.B) {
	for _, clients := range []int{1, 16} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			run(b, clients, rawInsert(newEnv(b, "")))
		})
	}
}

// rawInsert is the ceiling: one pgx INSERT of the same audit row, no HTTP, no statuses.
func rawInsert(e *env) func() error {
	ctx := context.Background()
	return func() error {
		a := record(fmt.Sprintf("raw-%d", benchSeq.Add(1)))
		approval, _ := json.Marshal(a.Approval)
		ops, _ := json.Marshal(a.Operations)
		_, err := e.pool.Exec(ctx, `INSERT INTO remediation_audit (remediation_name, alert_fingerprint, namespace,
signal_name, severity, environment, priority, target_resource, overall_phase, outcome, start_time, completion_time,
timeout_phase, failure_reason, approval, operations, phase_sequence)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
			a.RemediationName, a.AlertFingerprint, a.Namespace, a.SignalName, a.Severity, a.Environment, a.Priority,
			a.TargetResource, a.OverallPhase, a.Outcome, a.StartTime, a.CompletionTime, a.TimeoutPhase, a.FailureReason,
			approval, ops, a.PhaseSequence)
		return err
	}
}

// BenchmarkUpsertVsCeiling alternates short rounds of API upserts, raw inserts, Store upserts
// without HTTP on the same database, and the same HTTP posts to a server that does nothing (the
// HTTP floor), so that all see the same machine load, and reports the rates, the API/ceiling
// ratio, the p99 latencies and the CPU time (this process and PostgreSQL) per call.
func BenchmarkUpsertVsCeiling(b *testing.B) {
	for _, clients := range []int{1, 16} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			e := newEnv(b, "")
			api, raw, floor := apiUpsert(e), rawInsert(e), httpFloor(b)
			store := func() error {
				rec := record(fmt.Sprintf("store-%d", benchSeq.Add(1)))
				_, err := e.srv.Store.UpsertRemediation(context.Background(), &rec)
				return err
			}
			require.NoError(b, api())
			require.NoError(b, raw())
			require.NoError(b, store())
			require.NoError(b, floor())
			const rounds = 6
			per := max(b.N/rounds, 1)
			var apiRes, rawRes, storeRes, floorRes loadtest.Result
			b.ResetTimer()
			for range rounds {
				rawRes.Add(loadtest.Run(b, clients, per, raw, cpuTime))
				apiRes.Add(loadtest.Run(b, clients, per, api, cpuTime))
				storeRes.Add(loadtest.Run(b, clients, per, store, cpuTime))
				floorRes.Add(loadtest.Run(b, clients, per, floor, cpuTime))
			}
			b.StopTimer()
			b.ReportMetric(apiRes.Rate(), "api-ops/s")
			b.ReportMetric(rawRes.Rate(), "ceiling-ops/s")
			b.ReportMetric(apiRes.Rate()/rawRes.Rate(), "ratio")
			b.ReportMetric(storeRes.Rate(), "store-only-ops/s")
			b.ReportMetric(apiRes.Percentile(0.99), "api-p99-ms")
			b.ReportMetric(rawRes.Percentile(0.99), "ceiling-p99-ms")
			b.ReportMetric(apiRes.CPUPerOp(), "api-cpu-us/op")
			b.ReportMetric(rawRes.CPUPerOp(), "ceiling-cpu-us/op")
			b.ReportMetric(storeRes.CPUPerOp(), "store-cpu-us/op")
			b.ReportMetric(floorRes.Rate(), "http-floor-ops/s")
			b.ReportMetric(floorRes.CPUPerOp(), "http-floor-cpu-us/op")
		})
	}
}

// run calls op b.N times from `clients` goroutines and reports throughput and p99 latency.
func run(b *testing.B, clients int, op func() error) {
	b.Helper()
	require.NoError(b, op(), "warm-up call")
	b.ResetTimer()
	m := loadtest.Run(b, clients, b.N, op, nil)
	b.StopTimer()
	b.ReportMetric(m.Rate(), "ops/s")
	b.ReportMetric(m.Percentile(0.99), "p99-ms")
}
