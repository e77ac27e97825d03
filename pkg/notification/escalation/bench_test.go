package escalation_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkEscalationsAccepted posts distinct escalations in parallel (each becomes a
// NotificationRequest in the API server) and reports accepted escalations per second.
//
//	go test ./pkg/notification/escalation/ -run '^$' -bench EscalationsAccepted -benchtime 2000x
func BenchmarkEscalationsAccepted(b *testing.B) {
	srv, ns := server(b)
	var seq atomic.Int64
	var failed atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := valid(ns)
			req.RemediationRequestName = fmt.Sprintf("rr-%d", seq.Add(1))
			resp, _ := post(b, srv.URL, mustJSON(b, req), nil)
			if resp.StatusCode != http.StatusAccepted {
				failed.Add(1)
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if failed.Load() > 0 {
		b.Fatalf("%d escalations were not accepted", failed.Load())
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "escalations/s")
}
