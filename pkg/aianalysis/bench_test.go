package aianalysis_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/aianalysis"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

// BenchmarkBuiltinInvestigate is the builtin rules and guardrails alone (no API server).
func BenchmarkBuiltinInvestigate(b *testing.B) {
	inv := investigator.NewBuiltin()
	req := investigator.Request{Signal: oomSignal(), Scope: aiv1.InvestigationScope{TimeWindow: "24h"}, Now: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := investigator.Run(context.Background(), inv, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuiltinAnalysis measures analyses end to end on a real API server: creation of an
// AIAnalysis (as the orchestrator does) to its Completed status reaching a watcher, with the
// controller under its own RBAC filling spec.holmesGPTConfig and writing the status. Reported:
// analyses/s and the p50/p99 latency, with 1 and 10 analyses in flight.
func BenchmarkBuiltinAnalysis(b *testing.B) {
	env := testenv.Start(b)
	h := newHarness(b, env, investigator.NewBuiltin(), nil)
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: app.NewScheme()})
	require.NoError(b, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := wc.Watch(ctx, &aiv1.AIAnalysisList{}, client.InNamespace(h.ns))
	require.NoError(b, err)
	defer w.Stop()

	var mu sync.Mutex
	created, done := map[string]time.Time{}, map[string]chan time.Time{}
	go func() {
		for ev := range w.ResultChan() {
			a, ok := ev.Object.(*aiv1.AIAnalysis)
			if !ok || a.Status.Phase != aiv1.PhaseCompleted {
				continue
			}
			mu.Lock()
			ch := done[a.Name]
			delete(done, a.Name)
			mu.Unlock()
			if ch != nil {
				ch <- time.Now()
			}
		}
	}()
	sig := oomSignal()
	run := func(n, inflight int, prefix string) []time.Duration {
		lat := make([]time.Duration, n)
		sem := make(chan struct{}, inflight)
		var wg sync.WaitGroup
		for i := range n {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				name := fmt.Sprintf("%s-%d", prefix, i)
				ch := make(chan time.Time, 1)
				mu.Lock()
				done[name] = ch
				mu.Unlock()
				a := &aiv1.AIAnalysis{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: h.ns}, Spec: aiv1.AIAnalysisSpec{
					AnalysisRequest: aiv1.AnalysisRequest{AlertContext: sig}}}
				a.Spec.RemediationRequestRef.Name, a.Spec.RemediationRequestRef.Namespace = "rr-"+name, h.ns
				start := time.Now()
				mu.Lock()
				created[name] = start
				mu.Unlock()
				if err := env.Client.Create(context.Background(), a); err != nil {
					b.Error(err)
					return
				}
				select {
				case end := <-ch:
					lat[i] = end.Sub(start)
				case <-time.After(60 * time.Second):
					b.Errorf("%s did not complete", name)
				}
			}()
		}
		wg.Wait()
		return lat
	}
	run(20, 10, "warm")
	for _, inflight := range []int{1, 10} {
		b.Run(fmt.Sprintf("inflight=%d", inflight), func(b *testing.B) {
			start := time.Now()
			lat := run(b.N, inflight, fmt.Sprintf("i%d-n%d", inflight, b.N))
			elapsed := time.Since(start)
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			q := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "analyses/s")
			b.ReportMetric(q(0.5), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
		})
	}
}

// BenchmarkBuiltinReconcile is one analysis's reconcile alone, called directly with a client
// that reads and writes the API server (no cache, no queue): the reads, the spec patch of
// holmesGPTConfig, the policy read, the builtin investigation with its guardrails and the status
// write. Reported: p50/p99 of one reconcile, one at a time.
func BenchmarkBuiltinReconcile(b *testing.B) {
	env := testenv.Start(b)
	ns := env.Namespace(b, nil)
	cfg := env.AsService(b, "aianalysis", ns)
	cfg.QPS, cfg.Burst = -1, 0
	c, err := client.New(cfg, client.Options{Scheme: app.NewScheme()})
	require.NoError(b, err)
	r := &aianalysis.Reconciler{Client: c, APIReader: c, Recorder: &events.FakeRecorder{}, Investigator: investigator.NewBuiltin(),
		Policy:   &aianalysis.PolicySource{Reader: c, Namespace: ns, Name: aianalysis.DefaultPolicyConfigMap},
		Defaults: aiv1.HolmesGPTConfig{Model: "builtin-rules"}, Now: time.Now}
	sig := oomSignal()
	create := func(name string) {
		a := &aiv1.AIAnalysis{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: aiv1.AIAnalysisSpec{AnalysisRequest: aiv1.AnalysisRequest{AlertContext: sig}}}
		a.Spec.RemediationRequestRef.Name, a.Spec.RemediationRequestRef.Namespace = "rr", ns
		require.NoError(b, env.Client.Create(context.Background(), a))
	}
	lat := make([]time.Duration, 0, b.N)
	for i := range b.N {
		name := fmt.Sprintf("a-%d", i)
		b.StopTimer()
		create(name)
		b.StartTimer()
		start := time.Now()
		if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: name}}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	a := &aiv1.AIAnalysis{}
	require.NoError(b, env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "a-0"}, a))
	require.Equal(b, aiv1.PhaseCompleted, a.Status.Phase)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}
