package gateway_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/loadtest"
	"github.com/kubernaut/kubernaut/pkg/gateway"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

// Benchmarks of the webhook path against the envtest API server. The figures to quote are the
// interleaved ones, whose two sides see the same machine load:
//
//	go test ./pkg/gateway/ -run '^$' -bench 'DistinctVsCeiling|DuplicatesVsPatchCeiling' -benchtime 3s
//	go test ./pkg/gateway/ -run '^$' -bench WebhookDuplicates -benchtime 3s
//
// BenchmarkCreateCeiling, BenchmarkWebhookDistinct and BenchmarkStatusPatchCeiling measure one
// side alone; BenchmarkDecodeRequest (state_test.go) compares the gateway's decoder with the
// API machinery's; BenchmarkCacheMemory10k and BenchmarkOwnerCacheMemory10k (memory_test.go) the
// caches' heap. Distinct alerts are pod alerts resolved to their Deployments; their workloads are
// created before the timed rounds, so run DistinctVsCeiling with -benchtime 1x (make bench-gateway).

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

// drain reads and closes a response body, so that the connection is reused (as Alertmanager's
// client does) instead of a new one being dialled for every post.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

func benchHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
}

// BenchmarkCreateCeiling is raw client-go Create of RemediationRequests on the same API server:
// the ceiling for distinct alerts.
func BenchmarkCreateCeiling(b *testing.B) {
	var seq atomic.Int64
	create := ceilingCreate(b, env.Namespace(b, nil), &seq)
	var lat latencies
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var local []time.Duration
		for pb.Next() {
			t0 := time.Now()
			if err := create(); err != nil {
				b.Error(err)
				return
			}
			local = append(local, time.Since(t0))
		}
		lat.add(local)
	})
	lat.report(b, time.Since(start))
}

// distinctWorkloads creates n Deployments web-<from+i> in ns, each with a ReplicaSet and a Pod
// (as their controllers would), from 32 senders, and returns the Pods' names by index i.
func distinctWorkloads(b testing.TB, ns string, from, n int) []string {
	pods := make([]string, n)
	work := make(chan int)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				rs := makeReplicaSet(b, makeDeployment(b, ns, fmt.Sprintf("web-%d", from+i)), "5d9c7b8f6d")
				pods[i] = makePod(b, ns, rs.Name+"-x7k2p", rs).Name
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	return pods
}

// podAlert is KubePodCrashLooping about a Pod, as kube-prometheus delivers it.
func podAlert(ns, pod string) gateway.Alert {
	return alert("firing", kubePrometheusKSM(map[string]string{"alertname": "KubePodCrashLooping", "severity": "warning", "namespace": ns,
		"pod": pod, "uid": "0f7d5c3e-8a1b-4c2d-9e6f-7a8b9c0d1e2f", "container": "app", "reason": "CrashLoopBackOff"}))
}

// BenchmarkWebhookDistinct posts crash loops of Pods of distinct Deployments: each resolves its
// Pod to its Deployment (Pod and ReplicaSet read) and creates a request.
func BenchmarkWebhookDistinct(b *testing.B) {
	sys := env.Namespace(b, nil)
	shop := env.Namespace(b, map[string]string{"kubernaut.io/environment": "production"})
	pods := distinctWorkloads(b, shop, 0, b.N)
	bodies := make([][]byte, len(pods))
	for i, p := range pods {
		bodies[i] = webhook(b, podAlert(shop, p))
	}
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
			body := bodies[seq.Add(1)-1]
			t0 := time.Now()
			resp, err := hc.Post(gw.url+gateway.PathPrometheus, "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			drain(resp)
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
			calls := &callCounter{}
			gw := startGateway(b, sys, options{rest: calls.config()})
			hc := benchHTTPClient()
			bodies := make([][]byte, n)
			for i := range bodies {
				makeDeployment(b, shop, fmt.Sprintf("web-%d", i))
				bodies[i] = webhook(b, memoryAlert(shop, fmt.Sprintf("web-%d", i)))
				resp, err := hc.Post(gw.url+gateway.PathPrometheus, "application/json", bytes.NewReader(bodies[i]))
				require.NoError(b, err)
				drain(resp)
				require.Equal(b, http.StatusCreated, resp.StatusCode)
			}
			var seq atomic.Int64
			var lat latencies
			before := calls.snapshot()
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
					drain(resp)
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
			after := calls.snapshot()
			for _, verb := range []string{"PATCH", "GET", "POST"} {
				b.ReportMetric(float64(after[verb]-before[verb])/float64(max(len(lat.all), 1)), verb+"/signal")
			}
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

// ceilingCreate returns a raw client-go Create into ns of exactly the request the gateway
// creates for podAlert of a Pod of a fresh Deployment (generation 0 of a new fingerprint, with
// the same labels, annotation, payload, providerData and targetResolution), so that the ceiling
// stores the same objects as the webhook path.
func ceilingCreate(b *testing.B, ns string, seq *atomic.Int64) func() error {
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 2000, 4000
	c, err := client.New(cfg, client.Options{Scheme: app.NewScheme()})
	require.NoError(b, err)
	msg, problems := gateway.ParseWebhook(webhook(b, podAlert("shop", "web-5d9c7b8f6d-x7k2p")))
	require.Empty(b, problems)
	template, err := msg.Signal(0, gateway.DefaultConfig(ns).MaxPayloadBytes)
	require.NoError(b, err)
	template.OriginalPayload()
	gcfg := gateway.DefaultConfig(ns)
	return func() error {
		s := *template
		name := fmt.Sprintf("web-%d", seq.Add(1))
		pod := common.TargetResource{APIVersion: "v1", Kind: "Pod", Namespace: "shop", Name: name + "-5d9c7b8f6d-x7k2p"}
		s.Target = common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: name}
		s.Resolution = gateway.Resolution{Target: s.Target, Source: "pod", Named: &pod}
		s.Labels = maps.Clone(template.Labels)
		s.Labels["pod"] = pod.Name
		rr := gateway.NewRequest(gcfg, &s, gateway.Fingerprint(s.Target), 0, remediationv1.EnvironmentProduction, time.Now())
		return c.Create(context.Background(), rr)
	}
}

// webhookPost returns a post of one firing alert to gw that must be answered with want.
func webhookPost(gw *instance, hc *http.Client, body func() []byte, want int) func() error {
	return func() error {
		resp, err := hc.Post(gw.url+gateway.PathPrometheus, "application/json", bytes.NewReader(body()))
		if err != nil {
			return err
		}
		drain(resp)
		if resp.StatusCode != want {
			return fmt.Errorf("status %d, want %d", resp.StatusCode, want)
		}
		return nil
	}
}

// watchAll runs an informer on every RemediationRequest of ns (full objects, as the
// orchestrator watches them) until the benchmark ends.
func watchAll(b *testing.B, ns string) {
	cfg := rest.CopyConfig(env.Config)
	c, err := cache.New(cfg, cache.Options{Scheme: app.NewScheme(), DefaultNamespaces: map[string]cache.Config{ns: {}}})
	require.NoError(b, err)
	ctx, cancel := context.WithCancel(context.Background())
	_, err = c.GetInformer(ctx, &remediationv1.RemediationRequest{})
	require.NoError(b, err)
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Start(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	require.True(b, c.WaitForCacheSync(ctx))
}

// minRound is the fewest calls per side in one round of the interleaved benchmarks: with fewer,
// the ramp-up and drain of 16 senders dominate a round and the ratios swing by ±30% between runs.
const minRound = 400

// BenchmarkDistinctVsCeiling alternates short rounds of raw client-go Creates (the ceiling),
// raw Creates into a namespace that an informer watches (every real cluster has one: the
// orchestrator watches all requests), and webhook posts of distinct alerts through a gateway,
// all from the same number of senders against the same API server, so that every side sees
// the same machine load. It reports the rates, the webhook/ceiling ratios, p50/p99 of each
// side and the gateway's API calls per signal.
func BenchmarkDistinctVsCeiling(b *testing.B) {
	senders := benchParallelism * runtime.GOMAXPROCS(0)
	var seq atomic.Int64
	ceiling := ceilingCreate(b, env.Namespace(b, nil), &seq)
	informedNS := env.Namespace(b, nil)
	watchAll(b, informedNS)
	informed := ceilingCreate(b, informedNS, &seq)
	sys := env.Namespace(b, nil)
	shop := env.Namespace(b, map[string]string{"kubernaut.io/environment": "production"})
	const rounds = 6
	per := max(b.N/rounds, minRound)
	pods := distinctWorkloads(b, shop, 0, rounds*per+1)
	calls := &callCounter{}
	gw := startGateway(b, sys, options{rest: calls.config()})
	hc := benchHTTPClient()
	// The payloads are built beforehand, as Alertmanager builds them elsewhere: the CPU measured
	// is the gateway's and the API server's.
	bodies := make([][]byte, len(pods))
	for i, p := range pods {
		bodies[i] = webhook(b, podAlert(shop, p))
	}
	var next atomic.Int64
	distinct := webhookPost(gw, hc, func() []byte { return bodies[next.Add(1)-1] }, http.StatusCreated)
	for _, op := range []func() error{ceiling, informed, distinct} {
		require.NoError(b, op(), "warm-up call")
	}
	var ceilRes, informedRes, hookRes loadtest.Result
	b.ResetTimer()
	for range rounds {
		ceilRes.Add(loadtest.Run(b, senders, per, ceiling, cpuTime))
		before := calls.total()
		hookRes.Add(loadtest.Run(b, senders, per, distinct, cpuTime))
		hookRes.Calls += calls.total() - before
		informedRes.Add(loadtest.Run(b, senders, per, informed, cpuTime))
	}
	b.StopTimer()
	b.ReportMetric(hookRes.CPUPerOp()/1000, "webhook-cpu-ms/signal")
	b.ReportMetric(ceilRes.CPUPerOp()/1000, "ceiling-cpu-ms/create")
	b.ReportMetric(informedRes.CPUPerOp()/1000, "informed-ceiling-cpu-ms/create")
	b.ReportMetric(hookRes.Rate(), "webhook-signals/s")
	b.ReportMetric(ceilRes.Rate(), "ceiling-creates/s")
	b.ReportMetric(informedRes.Rate(), "informed-ceiling-creates/s")
	b.ReportMetric(hookRes.Rate()/ceilRes.Rate(), "ratio")
	b.ReportMetric(hookRes.Rate()/informedRes.Rate(), "ratio-vs-informed")
	b.ReportMetric(hookRes.Percentile(0.50), "webhook-p50-ms")
	b.ReportMetric(hookRes.Percentile(0.99), "webhook-p99-ms")
	b.ReportMetric(ceilRes.Percentile(0.50), "ceiling-p50-ms")
	b.ReportMetric(ceilRes.Percentile(0.99), "ceiling-p99-ms")
	b.ReportMetric(informedRes.Percentile(0.99), "informed-ceiling-p99-ms")
	b.ReportMetric(float64(hookRes.Calls)/float64(hookRes.N), "api-calls/signal")
}

// callCounter counts the API requests of a rest.Config it made, by verb.
type callCounter struct {
	mu    sync.Mutex
	verbs map[string]int
	gets  map[string]int // GETs (not watches) by URL path
}

type countingTransport struct {
	c    *callCounter
	next http.RoundTripper
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.c.mu.Lock()
	if t.c.verbs == nil {
		t.c.verbs = map[string]int{}
	}
	verb := r.Method
	if r.URL.Query().Get("watch") == "true" {
		verb = "WATCH"
	}
	t.c.verbs[verb]++
	if verb == http.MethodGet {
		if t.c.gets == nil {
			t.c.gets = map[string]int{}
		}
		t.c.gets[r.URL.Path]++
	}
	t.c.mu.Unlock()
	return t.next.RoundTrip(r)
}

// config returns a copy of the test API server's config whose requests are counted.
func (c *callCounter) config() *rest.Config {
	cfg := rest.CopyConfig(env.Config)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countingTransport{c: c, next: rt} })
	return cfg
}

// total counts the requests so far except watches.
func (c *callCounter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for v, k := range c.verbs {
		if v != "WATCH" {
			n += k
		}
	}
	return n
}

// snapshotPaths copies the counts of GETs by URL path.
func (c *callCounter) snapshotPaths() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.gets)
}

// snapshot copies the counts by verb.
func (c *callCounter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for v, k := range c.verbs {
		out[v] = k
	}
	return out
}

// statusPatcher returns raw client-go status merge patches of occurrenceCount with the
// resourceVersion lock on `objects` requests created in ns (each request patched by one sender
// at a time, so that no patch conflicts).
func statusPatcher(b *testing.B, ns string, objects int) func() error {
	var seq atomic.Int64
	create := ceilingCreate(b, ns, &seq)
	for range objects {
		require.NoError(b, create())
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 2000, 4000
	c, err := client.New(cfg, client.Options{Scheme: app.NewScheme()})
	require.NoError(b, err)
	var list remediationv1.RemediationRequestList
	require.NoError(b, c.List(context.Background(), &list, client.InNamespace(ns)))
	locks := make([]sync.Mutex, len(list.Items))
	var next atomic.Int64
	return func() error {
		i := int(next.Add(1)) % len(list.Items)
		locks[i].Lock()
		defer locks[i].Unlock()
		rr := &list.Items[i]
		body := fmt.Sprintf(`{"metadata":{"resourceVersion":%q},"status":{"deduplication":{"firstSeen":"2026-11-26T01:00:00Z","lastSeen":%q,"occurrenceCount":%d}}}`,
			rr.ResourceVersion, time.Now().UTC().Format(time.RFC3339), seq.Add(1)%1000)
		return c.Status().Patch(context.Background(), rr, client.RawPatch(types.MergePatchType, []byte(body)))
	}
}

// BenchmarkDuplicatesVsPatchCeiling alternates short rounds of raw status patches (one per
// signal: the most an API server allows when no two signals can share a write) and webhook
// posts of duplicates over the same number of fingerprints, from the same number of senders,
// and reports both rates, the ratio, p50/p99 and the gateway's API writes per signal.
func BenchmarkDuplicatesVsPatchCeiling(b *testing.B) {
	for _, n := range []int{1, 16} {
		b.Run(fmt.Sprintf("fingerprints=%d", n), func(b *testing.B) {
			senders := benchParallelism * runtime.GOMAXPROCS(0)
			ceiling := statusPatcher(b, env.Namespace(b, nil), n)
			sys, shop := env.Namespace(b, nil), env.Namespace(b, nil)
			calls := &callCounter{}
			gw := startGateway(b, sys, options{rest: calls.config()})
			hc := benchHTTPClient()
			bodies := make([][]byte, n)
			for i := range bodies {
				makeDeployment(b, shop, fmt.Sprintf("web-%d", i))
				bodies[i] = webhook(b, memoryAlert(shop, fmt.Sprintf("web-%d", i)))
				require.NoError(b, webhookPost(gw, hc, func() []byte { return bodies[i] }, http.StatusCreated)())
			}
			var seq atomic.Int64
			dup := webhookPost(gw, hc, func() []byte { return bodies[int(seq.Add(1))%n] }, http.StatusAccepted)
			require.NoError(b, ceiling())
			const rounds = 6
			per := max(b.N/rounds, minRound)
			var ceilRes, hookRes loadtest.Result
			b.ResetTimer()
			for range rounds {
				ceilRes.Add(loadtest.Run(b, senders, per, ceiling, nil))
				before := calls.total()
				hookRes.Add(loadtest.Run(b, senders, per, dup, nil))
				hookRes.Calls += calls.total() - before
			}
			b.StopTimer()
			b.ReportMetric(hookRes.Rate(), "webhook-signals/s")
			b.ReportMetric(ceilRes.Rate(), "ceiling-patches/s")
			b.ReportMetric(hookRes.Rate()/ceilRes.Rate(), "ratio")
			b.ReportMetric(hookRes.Percentile(0.50), "webhook-p50-ms")
			b.ReportMetric(hookRes.Percentile(0.99), "webhook-p99-ms")
			b.ReportMetric(ceilRes.Percentile(0.50), "ceiling-p50-ms")
			b.ReportMetric(ceilRes.Percentile(0.99), "ceiling-p99-ms")
			b.ReportMetric(float64(hookRes.Calls)/float64(hookRes.N), "api-calls/signal")
		})
	}
}
