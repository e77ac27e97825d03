package orchestrator_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	orchestratorapp "github.com/kubernaut/kubernaut/cmd/orchestrator/app"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/orchestrator"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

// apiCounter counts, exactly, the requests one client (one rest.Config) sends to the API
// server: writes (POST, PUT, PATCH, DELETE, events included), writes the API server refused
// with 409 (conflicts and AlreadyExists: wasted writes), and live reads (GETs that are not
// watches, i.e. reads that bypass the informer cache).
type apiCounter struct {
	writes, refused, liveReads atomic.Int64
}

type apiCounts struct{ writes, refused, liveReads int64 }

func (c *apiCounter) snapshot() apiCounts {
	return apiCounts{c.writes.Load(), c.refused.Load(), c.liveReads.Load()}
}

func (a apiCounts) sub(b apiCounts) apiCounts {
	return apiCounts{a.writes - b.writes, a.refused - b.refused, a.liveReads - b.liveReads}
}

// wrap makes every client built from cfg (the manager's client, cache, API reader and event
// recorder) count through c.
func (c *apiCounter) wrap(cfg *rest.Config) {
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			write := false
			switch req.Method {
			case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
				write = true
				c.writes.Add(1)
			case http.MethodGet:
				if req.URL.Query().Get("watch") != "true" {
					c.liveReads.Add(1)
				}
			}
			resp, err := rt.RoundTrip(req)
			if write && err == nil && resp.StatusCode == http.StatusConflict {
				c.refused.Add(1)
			}
			return resp, err
		})
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// benchRig is an orchestrator plus a driver that plays the five child services and the gateway.
type benchRig struct {
	env            *testenv.Env
	ns             string
	orch, drv      apiCounter
	approval       bool
	mu             sync.Mutex
	done           map[string]chan struct{}
	approvingAt    sync.Map // rr → time the driver started the Approving patch
	latencies      []time.Duration
	cancel         context.CancelFunc
	wg             sync.WaitGroup
	driver         client.Client
	standInsCalled atomic.Int64
}

func newBenchRig(b *testing.B, env *testenv.Env, approval bool) *benchRig {
	ctrllog.SetLogger(logr.Discard())
	rig := &benchRig{env: env, ns: env.Namespace(b, nil), approval: approval, done: map[string]chan struct{}{}}
	notif, ds := newNotificationStandIn(b), newDatastorageStandIn(b)
	token := filepath.Join(b.TempDir(), "token")
	require.NoError(b, os.WriteFile(token, []byte(testToken), 0o600))
	ctx, cancel := context.WithCancel(context.Background())
	rig.cancel = cancel
	b.Cleanup(func() { cancel(); rig.wg.Wait() })

	newMgr := func(name string, counter *apiCounter) manager.Manager {
		o := app.NewOptions(true)
		o.Namespace, o.MetricsBindAddress, o.HealthProbeBindAddress, o.LeaderElect = rig.ns, "0", "0", false
		opts := o.ManagerOptions(name)
		orchestrator.CacheOptions(&opts.Cache, rig.ns)
		skip := true
		opts.Controller.SkipNameValidation = &skip
		cfg := *env.Config
		// The client-side rate limit of cmd/orchestrator (the driver gets the same).
		defaults := orchestratorapp.NewConfig()
		cfg.QPS, cfg.Burst = defaults.KubeAPIQPS, defaults.KubeAPIBurst
		counter.wrap(&cfg)
		mgr, err := app.NewManager(&cfg, opts)
		require.NoError(b, err)
		return mgr
	}

	// The orchestrator, with its API requests counted, configured as cmd/orchestrator configures it.
	om := newMgr("orchestrator", &rig.orch)
	ocfg := orchestrator.DefaultConfig()
	ocfg.Namespace, ocfg.MaxActive, ocfg.MaxActivePerNamespace, ocfg.VerificationWindow = rig.ns, 0, 0, time.Hour
	r := &orchestrator.Reconciler{
		Config:   ocfg,
		Notifier: notificationapi.NewClient(notif.srv.URL, token),
		Audit:    auditapi.NewClient(ds.srv.URL, token),
	}
	require.NoError(b, r.SetupWithManager(ctx, om))

	// The driver: the child services and the gateway, reacting to watches.
	dm := newMgr("driver", &rig.drv)
	rig.driver = mustWatchClient(b, dm)
	rig.setupDriver(b, dm)

	for _, m := range []manager.Manager{om, dm} {
		rig.wg.Add(1)
		go func(m manager.Manager) { defer rig.wg.Done(); _ = m.Start(ctx) }(m)
	}
	require.True(b, om.GetCache().WaitForCacheSync(ctx))
	require.True(b, dm.GetCache().WaitForCacheSync(ctx))
	return rig
}

func mustWatchClient(b *testing.B, m manager.Manager) client.WithWatch {
	c, err := client.NewWithWatch(m.GetConfig(), client.Options{Scheme: m.GetScheme(), Cache: &client.CacheOptions{Reader: m.GetCache()}})
	require.NoError(b, err)
	return c
}

func statusPatch[T client.Object](ctx context.Context, c client.Client, obj T, mutate func(T)) error {
	before := obj.DeepCopyObject().(T)
	mutate(obj)
	return c.Status().Patch(ctx, obj, client.MergeFrom(before))
}

func (rig *benchRig) setupDriver(b *testing.B, m manager.Manager) {
	c := rig.driver
	reg := func(name string, obj client.Object, fn func(ctx context.Context, key client.ObjectKey) error, opts ...builder.ForOption) {
		require.NoError(b, ctrl.NewControllerManagedBy(m).Named("driver-"+name).For(obj, opts...).
			WithOptions(controllerOpts()).
			Complete(reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
				return reconcile.Result{}, client.IgnoreNotFound(fn(ctx, req.NamespacedName))
			})))
	}
	reg("rp", &processingv1.RemediationProcessing{}, func(ctx context.Context, key client.ObjectKey) error {
		rp := &processingv1.RemediationProcessing{}
		if err := c.Get(ctx, key, rp); err != nil || rp.Status.Phase != "" {
			return err
		}
		return statusPatch(ctx, c, rp, func(rp *processingv1.RemediationProcessing) {
			rp.Status.Phase = processingv1.PhaseCompleted
			rp.Status.EnrichedSignal = &processingv1.EnrichedSignal{Fingerprint: rp.Spec.Alert.Fingerprint, Severity: "critical", Environment: "production",
				BusinessPriority: "P0", Namespace: "shop", ResourceKind: "Deployment", ResourceName: "web"}
		})
	})
	reg("aia", &aiv1.AIAnalysis{}, func(ctx context.Context, key client.ObjectKey) error {
		a := &aiv1.AIAnalysis{}
		if err := c.Get(ctx, key, a); err != nil || a.Status.Phase != "" {
			return err
		}
		if rig.approval {
			rig.approvingAt.Store(a.Spec.RemediationRequestRef.Name, time.Now())
		}
		return statusPatch(ctx, c, a, func(a *aiv1.AIAnalysis) {
			a.Status.Phase = aiv1.PhaseCompleted
			a.Status.Confidence = 0.9
			a.Status.Recommendations = []aiv1.Recommendation{recommendation()}
			if rig.approval {
				a.Status.Phase = aiv1.PhaseApproving
				a.Status.Approval = &aiv1.ApprovalStatus{Required: true, Reason: "production"}
			}
		})
	})
	reg("wfe", &workflowv1.WorkflowExecution{}, func(ctx context.Context, key client.ObjectKey) error {
		w := &workflowv1.WorkflowExecution{}
		if err := c.Get(ctx, key, w); err != nil || w.Status.Phase != "" {
			return err
		}
		return statusPatch(ctx, c, w, func(w *workflowv1.WorkflowExecution) {
			w.Status.Phase = workflowv1.PhaseCompleted
			w.Status.Operations = []common.Operation{{Name: "raise-memory", Action: "increase_resources",
				Target: common.TargetResource{Kind: "Deployment", Namespace: "shop", Name: "web"}, Parameters: map[string]string{"memory": "512Mi"}}}
		})
	})
	reg("ke", &kev1.KubernetesExecution{}, func(ctx context.Context, key client.ObjectKey) error {
		k := &kev1.KubernetesExecution{}
		if err := c.Get(ctx, key, k); err != nil || k.Status.Phase != "" {
			return err
		}
		return statusPatch(ctx, c, k, func(k *kev1.KubernetesExecution) { k.Status.Phase = kev1.PhaseCompleted })
	})
	reg("rr", &remediationv1.RemediationRequest{}, func(ctx context.Context, key client.ObjectKey) error {
		rr := &remediationv1.RemediationRequest{}
		if err := c.Get(ctx, key, rr); err != nil {
			return err
		}
		switch rr.Status.OverallPhase {
		case remediationv1.PhaseVerifying:
			if rr.Status.SignalResolvedAt == nil {
				return statusPatch(ctx, c, rr, func(rr *remediationv1.RemediationRequest) { now := metav1.Now(); rr.Status.SignalResolvedAt = &now })
			}
		case remediationv1.PhaseCompleted:
			if !rig.approval {
				rig.finish(rr.Name)
			}
		}
		return nil
	})
	// Approval notifications are observed through a metadata-only watch, as a notification controller would see them.
	reg("nr", &notificationv1.NotificationRequest{}, func(ctx context.Context, key client.ObjectKey) error {
		if !rig.approval || len(key.Name) < len("-approval") || key.Name[len(key.Name)-len("-approval"):] != "-approval" {
			return nil
		}
		rrName := key.Name[:len(key.Name)-len("-approval")]
		if t, ok := rig.approvingAt.LoadAndDelete(rrName); ok {
			rig.mu.Lock()
			rig.latencies = append(rig.latencies, time.Since(t.(time.Time)))
			rig.mu.Unlock()
			rig.finish(rrName)
		}
		return nil
	}, builder.OnlyMetadata)
}

func (rig *benchRig) finish(name string) {
	rig.mu.Lock()
	ch, ok := rig.done[name]
	if ok {
		delete(rig.done, name)
	}
	rig.mu.Unlock()
	if ok {
		close(ch)
	}
}

// runResult is one run of remediations.
type runResult struct {
	n       int
	elapsed time.Duration
	// steadyN remediations completed in steadyTime, the window in which inflight requests were
	// active all the time (from the first completion to the last submission): the rate without
	// the ramp-up and drain of a short run.
	steadyN    int
	steadyTime time.Duration
}

// run drives n remediations with inflight of them active at once.
func (rig *benchRig) run(b *testing.B, prefix string, n, inflight int) runResult {
	sem := make(chan struct{}, inflight)
	var wg sync.WaitGroup
	var doneMu sync.Mutex
	var completions []time.Time
	start := time.Now()
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		name := fmt.Sprintf("%s-%d", prefix, i)
		ch := make(chan struct{})
		rig.mu.Lock()
		rig.done[name] = ch
		rig.mu.Unlock()
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			now := metav1.NewTime(time.Now().Truncate(time.Second))
			fp := fingerprint(rig.ns + name)
			rr := &remediationv1.RemediationRequest{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: rig.ns, Labels: map[string]string{remediationv1.LabelSignalFingerprint: fp[:63]}},
				Spec: remediationv1.RemediationRequestSpec{SignalFingerprint: fp, SignalName: "HighMemoryUsage",
					Severity: remediationv1.SeverityCritical, Environment: remediationv1.EnvironmentProduction, Priority: remediationv1.PriorityP0,
					SignalType: remediationv1.SignalTypePrometheusAlert, FiringTime: now, ReceivedTime: now,
					TargetResource: common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}},
			}
			if err := rig.driver.Create(context.Background(), rr); err != nil {
				b.Error(err)
				return
			}
			select {
			case <-ch:
				doneMu.Lock()
				completions = append(completions, time.Now())
				doneMu.Unlock()
			case <-time.After(2 * time.Minute):
				b.Errorf("%s did not finish", name)
			}
		}()
	}
	lastSubmit := time.Now()
	wg.Wait()
	res := runResult{n: n, elapsed: time.Since(start), steadyN: n, steadyTime: time.Since(start)}
	slices.SortFunc(completions, func(a, b time.Time) int { return a.Compare(b) })
	if n > inflight && len(completions) > 0 && lastSubmit.After(completions[0]) {
		res.steadyN, res.steadyTime = 0, lastSubmit.Sub(completions[0])
		for _, t := range completions[1:] {
			if !t.After(lastSubmit) {
				res.steadyN++
			}
		}
	}
	return res
}

// reportCounts reports the API requests counted per remediation, for the orchestrator and the
// driver separately, and returns the total writes per remediation.
func reportCounts(b *testing.B, n int, orch, drv apiCounts) (orchWrites, totalWrites float64) {
	per := func(v int64) float64 { return float64(v) / float64(n) }
	b.ReportMetric(per(orch.writes), "orchestrator-writes/remediation")
	b.ReportMetric(per(drv.writes), "driver-writes/remediation")
	b.ReportMetric(per(orch.writes+drv.writes), "total-writes/remediation")
	b.ReportMetric(per(orch.refused), "orchestrator-409s/remediation")
	b.ReportMetric(per(drv.refused), "driver-409s/remediation")
	b.ReportMetric(per(orch.liveReads), "orchestrator-live-reads/remediation")
	return per(orch.writes), per(orch.writes + drv.writes)
}

// BenchmarkLifecycle drives whole remediations (children completed by a driver playing the
// child services) against the envtest API server at 1, 10 and 100 in flight, and reports the
// API writes counted per remediation for the orchestrator and the driver. Run with
// -benchtime=Nx to set the number of remediations per level.
func BenchmarkLifecycle(b *testing.B) {
	env := testenv.Start(b)
	for _, inflight := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("inflight=%d", inflight), func(b *testing.B) {
			rig := newBenchRig(b, env, false)
			o0, d0 := rig.orch.snapshot(), rig.drv.snapshot()
			b.ResetTimer()
			res := rig.run(b, "rr", b.N, inflight)
			b.StopTimer()
			b.ReportMetric(float64(res.n)/res.elapsed.Seconds(), "remediations/s")
			b.ReportMetric(float64(res.steadyN)/res.steadyTime.Seconds(), "steady-remediations/s")
			reportCounts(b, b.N, rig.orch.snapshot().sub(o0), rig.drv.snapshot().sub(d0))
		})
	}
}

// ceilingWriter writes, from 100 concurrent writers, the mix of writes a remediation makes:
// creates of small custom resources (NotificationRequests, the size of the children) and
// status merge patches of RemediationRequests (the size of a phase change), in the lifecycle's
// proportion of 7 creates to 11 status patches (the orchestrator creates four children, one
// notification and one event and patches the status six times; the driver creates the request
// and patches five statuses).
type ceilingWriter struct {
	c    client.Client
	ns   string
	rrs  []string
	next atomic.Int64
}

func newCeilingWriter(b *testing.B, env *testenv.Env) *ceilingWriter {
	cfg := *env.Config
	cfg.QPS, cfg.Burst = -1, 0
	c, err := client.New(&cfg, client.Options{Scheme: app.NewScheme()})
	require.NoError(b, err)
	w := &ceilingWriter{c: c, ns: env.Namespace(b, nil)}
	for i := 0; i < 100; i++ {
		now := metav1.NewTime(time.Now().Truncate(time.Second))
		fp := fingerprint(fmt.Sprint(w.ns, i))
		rr := &remediationv1.RemediationRequest{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ceiling-%d", i), Namespace: w.ns},
			Spec: remediationv1.RemediationRequestSpec{SignalFingerprint: fp, SignalName: "HighMemoryUsage",
				Severity: remediationv1.SeverityCritical, Environment: remediationv1.EnvironmentProduction, Priority: remediationv1.PriorityP0,
				SignalType: remediationv1.SignalTypePrometheusAlert, FiringTime: now, ReceivedTime: now,
				TargetResource: common.TargetResource{Kind: "Deployment", Namespace: "shop", Name: "web"}}}
		require.NoError(b, c.Create(context.Background(), rr))
		w.rrs = append(w.rrs, rr.Name)
	}
	return w
}

func (w *ceilingWriter) write(i int64) error {
	ctx := context.Background()
	if i%18 < 7 {
		nr := &notificationv1.NotificationRequest{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("w-%d", i), Namespace: w.ns},
			Spec: notificationv1.NotificationRequestSpec{Type: notificationv1.TypeSimple, Subject: "Remediation completed",
				Body: "Remediation ceiling-0 for HighMemoryUsage on Deployment/shop/web completed: Remediated.", Priority: notificationv1.PriorityLow}}
		return w.c.Create(ctx, nr)
	}
	rr := &remediationv1.RemediationRequest{ObjectMeta: metav1.ObjectMeta{Name: w.rrs[i%int64(len(w.rrs))], Namespace: w.ns}}
	patch := client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(
		`{"status":{"overallPhase":"Processing","phaseStartTime":%q,"message":"write %d","audit":{"sequence":%d,"lastAcknowledgedPhase":"Processing"}}}`,
		time.Now().UTC().Format(time.RFC3339), i, i)))
	return w.c.Status().Patch(ctx, rr, patch)
}

// round makes n writes from 100 concurrent writers and returns the elapsed time.
func (w *ceilingWriter) round(b *testing.B, n int64) time.Duration {
	end := w.next.Load() + n
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < 100; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := w.next.Add(1)
				if i > end {
					return
				}
				if err := w.write(i); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	w.next.Store(end)
	return time.Since(start)
}

// BenchmarkLifecycleVsCeiling compares the throughput at 100 in flight with the API server's
// write ceiling measured under the same load: short lifecycle rounds alternate with ceiling
// rounds that make as many writes as the lifecycle round before them. It reports the counted
// writes per remediation and the ratio of the steady throughput to ceiling ÷ writes per
// remediation, for the orchestrator's writes alone and for all writes (orchestrator + driver).
// b.N is the number of remediations, split into four rounds; each round runs at least
// minLifecycleRound remediations whatever b.N is (a round must outlast the ramp-up of 100 in
// flight to show a steady rate), so `-benchtime 3s` in make bench still measures something.
func BenchmarkLifecycleVsCeiling(b *testing.B) {
	env := testenv.Start(b)
	rig := newBenchRig(b, env, false)
	ceiling := newCeilingWriter(b, env)
	const rounds, minLifecycleRound = 4, 300
	per := max(b.N/rounds, minLifecycleRound)
	var steadyN, n int
	var steadyTime, elapsed, ceilingTime time.Duration
	var ceilingWrites int64
	o0, d0 := rig.orch.snapshot(), rig.drv.snapshot()
	b.ResetTimer()
	for round := 0; round < rounds; round++ {
		ob, db := rig.orch.snapshot(), rig.drv.snapshot()
		res := rig.run(b, fmt.Sprintf("r%d", round), per, 100)
		n, elapsed = n+res.n, elapsed+res.elapsed
		steadyN, steadyTime = steadyN+res.steadyN, steadyTime+res.steadyTime
		w := rig.orch.snapshot().sub(ob).writes + rig.drv.snapshot().sub(db).writes
		ceilingTime += ceiling.round(b, w)
		ceilingWrites += w
	}
	b.StopTimer()
	orchW, totalW := reportCounts(b, n, rig.orch.snapshot().sub(o0), rig.drv.snapshot().sub(d0))
	steady := float64(steadyN) / steadyTime.Seconds()
	ceil := float64(ceilingWrites) / ceilingTime.Seconds()
	b.ReportMetric(float64(n)/elapsed.Seconds(), "remediations/s")
	b.ReportMetric(steady, "steady-remediations/s")
	b.ReportMetric(ceil, "ceiling-writes/s")
	b.ReportMetric(steady/(ceil/orchW), "ratio-orchestrator-writes")
	b.ReportMetric(steady/(ceil/totalW), "ratio-total-writes")
}

// BenchmarkApprovalNotification measures the time from the driver patching an AIAnalysis to
// Approving to the approval NotificationRequest reaching a watcher, at 10 in flight.
func BenchmarkApprovalNotification(b *testing.B) {
	env := testenv.Start(b)
	rig := newBenchRig(b, env, true)
	b.ResetTimer()
	_ = rig.run(b, "ap", b.N, 10)
	b.StopTimer()
	rig.mu.Lock()
	defer rig.mu.Unlock()
	slices.Sort(rig.latencies)
	if len(rig.latencies) == 0 {
		b.Fatal("no latencies")
	}
	pct := func(p float64) time.Duration { return rig.latencies[int(p*float64(len(rig.latencies)-1))] }
	b.ReportMetric(float64(pct(0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
}

// BenchmarkAPIServerWriteCeiling measures the envtest API server's write rate at 100 concurrent
// writers, for the two kinds of writes a remediation makes: creating a small custom resource, and
// merge-patching a RemediationRequest's status. The lifecycle throughput is compared with it.
func BenchmarkAPIServerWriteCeiling(b *testing.B) {
	env := testenv.Start(b)
	cfg := *env.Config
	cfg.QPS, cfg.Burst = -1, 0
	c, err := client.New(&cfg, client.Options{Scheme: app.NewScheme()})
	require.NoError(b, err)
	parallel := func(b *testing.B, write func(i int64) error) {
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for w := 0; w < 100; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > int64(b.N) {
						return
					}
					if err := write(i); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "writes/s")
	}
	b.Run("create", func(b *testing.B) {
		ns := env.Namespace(b, nil)
		b.ResetTimer()
		parallel(b, func(i int64) error {
			nr := &notificationv1.NotificationRequest{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("w-%d", i), Namespace: ns},
				Spec: notificationv1.NotificationRequestSpec{Type: notificationv1.TypeSimple, Subject: "s", Body: "b", Priority: notificationv1.PriorityLow}}
			return c.Create(context.Background(), nr)
		})
	})
	b.Run("status-patch", func(b *testing.B) {
		ns := env.Namespace(b, nil)
		rrs := make([]*remediationv1.RemediationRequest, 100)
		for i := range rrs {
			now := metav1.NewTime(time.Now().Truncate(time.Second))
			fp := fingerprint(fmt.Sprint(ns, i))
			rrs[i] = &remediationv1.RemediationRequest{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("rr-%d", i), Namespace: ns},
				Spec: remediationv1.RemediationRequestSpec{SignalFingerprint: fp, SignalName: "HighMemoryUsage",
					Severity: remediationv1.SeverityCritical, Environment: remediationv1.EnvironmentProduction, Priority: remediationv1.PriorityP0,
					SignalType: remediationv1.SignalTypePrometheusAlert, FiringTime: now, ReceivedTime: now,
					TargetResource: common.TargetResource{Kind: "Deployment", Namespace: "shop", Name: "web"}}}
			require.NoError(b, c.Create(context.Background(), rrs[i]))
		}
		b.ResetTimer()
		parallel(b, func(i int64) error {
			rr := &remediationv1.RemediationRequest{ObjectMeta: metav1.ObjectMeta{Name: rrs[i%100].Name, Namespace: ns}}
			patch := client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"status":{"message":"write %d","audit":{"sequence":%d}}}`, i, i)))
			return c.Status().Patch(context.Background(), rr, patch)
		})
	})
}

func controllerOpts() ctrlcontroller.Options {
	return ctrlcontroller.Options{MaxConcurrentReconciles: 16}
}
