package gateway_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/gateway"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

// benchParallelism is goroutines per GOMAXPROCS for every benchmark, so they compare.
const benchParallelism = 8

// latencies collects per-operation durations from parallel goroutines.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(d []time.Duration) { l.mu.Lock(); l.all = append(l.all, d...); l.mu.Unlock() }

// report adds signals/s, p50 and p99 to the benchmark's output.
func (l *latencies) report(b *testing.B, elapsed time.Duration) {
	sort.Slice(l.all, func(i, j int) bool { return l.all[i] < l.all[j] })
	if len(l.all) == 0 {
		return
	}
	pct := func(p float64) float64 {
		return float64(l.all[int(p*float64(len(l.all)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(l.all))/elapsed.Seconds(), "signals/s")
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
}

func benchHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
}

// BenchmarkCreateCeiling is raw client-go Create of RemediationRequests on the same API server:
// the ceiling for distinct alerts.
func BenchmarkCreateCeiling(b *testing.B) {
	ns := env.Namespace(b, nil)
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 2000, 4000
	c, err := client.New(cfg, client.Options{Scheme: app.NewScheme()})
	require.NoError(b, err)
	payload := webhook(b, memoryAlert("shop", "web"))
	var seq atomic.Int64
	var lat latencies
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var local []time.Duration
		for pb.Next() {
			i := seq.Add(1)
			now := metav1.Now()
			target := common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: fmt.Sprintf("web-%d", i)}
			fp := gateway.Fingerprint(target)
			rr := &remediationv1.RemediationRequest{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: gateway.RequestName(fp, 0), Labels: map[string]string{remediationv1.LabelSignalFingerprint: fp[:63]}},
				Spec: remediationv1.RemediationRequestSpec{
					SignalFingerprint: fp, SignalName: "HighMemoryUsage", Severity: "critical", Environment: "production", Priority: "P0",
					SignalType: "prometheus-alert", TargetResource: target, FiringTime: now, ReceivedTime: now,
					SignalLabels: map[string]string{"alertname": "HighMemoryUsage", "deployment": target.Name}, OriginalPayload: payload,
				},
			}
			t0 := time.Now()
			if err := c.Create(context.Background(), rr); err != nil {
				b.Error(err)
				return
			}
			local = append(local, time.Since(t0))
		}
		lat.add(local)
	})
	lat.report(b, time.Since(start))
}

// BenchmarkWebhookDistinct posts alerts for distinct Deployments: each creates a request.
func BenchmarkWebhookDistinct(b *testing.B) {
	sys := env.Namespace(b, nil)
	shop := env.Namespace(b, map[string]string{"kubernaut.io/environment": "production"})
	gw := startGateway(b, sys, options{})
	hc := benchHTTPClient()
	var seq atomic.Int64
	var lat latencies
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var local []time.Duration
		for pb.Next() {
			body := webhook(b, memoryAlert(shop, fmt.Sprintf("web-%d", seq.Add(1))))
			t0 := time.Now()
			resp, err := hc.Post(gw.url+gateway.PathPrometheus, "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
			local = append(local, time.Since(t0))
		}
		lat.add(local)
	})
	lat.report(b, time.Since(start))
}

// BenchmarkWebhookDuplicates posts repeats of alerts whose requests are active, spread over
// fingerprints (fingerprints=1 is an alert storm of one alert).
func BenchmarkWebhookDuplicates(b *testing.B) {
	for _, tc := range []struct{ n, parallelism int }{{1, benchParallelism}, {16, benchParallelism}, {1, 4 * benchParallelism}} {
		n := tc.n
		b.Run(fmt.Sprintf("fingerprints=%d/senders=%d", n, tc.parallelism*runtime.GOMAXPROCS(0)), func(b *testing.B) {
			sys := env.Namespace(b, nil)
			shop := env.Namespace(b, nil)
			gw := startGateway(b, sys, options{})
			hc := benchHTTPClient()
			bodies := make([][]byte, n)
			for i := range bodies {
				bodies[i] = webhook(b, memoryAlert(shop, fmt.Sprintf("web-%d", i)))
				resp, err := hc.Post(gw.url+gateway.PathPrometheus, "application/json", bytes.NewReader(bodies[i]))
				require.NoError(b, err)
				_ = resp.Body.Close()
				require.Equal(b, http.StatusCreated, resp.StatusCode)
			}
			var seq atomic.Int64
			var lat latencies
			b.SetParallelism(tc.parallelism)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				var local []time.Duration
				for pb.Next() {
					body := bodies[int(seq.Add(1))%n]
					t0 := time.Now()
					resp, err := hc.Post(gw.url+gateway.PathPrometheus, "application/json", bytes.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					_ = resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
					local = append(local, time.Since(t0))
				}
				lat.add(local)
			})
			elapsed := time.Since(start)
			b.StopTimer()
			lat.report(b, elapsed)
			var total int32
			for _, rr := range requests(b, sys) {
				if rr.Status.Deduplication != nil {
					total += rr.Status.Deduplication.OccurrenceCount
				}
			}
			if int(total) != len(lat.all) {
				b.Errorf("occurrence counts add up to %d, want %d", total, len(lat.all))
			}
		})
	}
}
