package datastorage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
)

// Benchmarks compare audit upserts through the HTTP API (JSON, token auth, validation, upsert of
// the record and its two service statuses in one round trip) with the ceiling: a raw pgx
// single-row INSERT of the same audit row into the same table on the same database.
//
//	go test ./pkg/datastorage/ -run '^$' -bench . -benchtime 5s
//
// Each reports ops/s and the p99 latency of one call.

var benchSeq atomic.Int64

func BenchmarkAuditUpsert(b *testing.B) {
	for _, clients := range []int{1, 16} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			e := newEnv(b, "")
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
			url := e.api.URL + auditapi.RemediationPath
			run(b, clients, func() error {
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
			})
		})
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
			e := newEnv(b, "")
			ctx := context.Background()
			run(b, clients, func() error {
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
			})
		})
	}
}

// run calls op b.N times from `clients` goroutines and reports throughput and p99 latency.
func run(b *testing.B, clients int, op func() error) {
	b.Helper()
	require.NoError(b, op(), "warm-up call")
	var (
		next      atomic.Int64
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, b.N)
		wg        sync.WaitGroup
		failed    atomic.Value
	)
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, b.N/clients+1)
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				if err := op(); err != nil {
					failed.Store(err)
					return
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	slices.Sort(latencies)
	p99 := latencies[min(len(latencies)-1, len(latencies)*99/100)]
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
}
