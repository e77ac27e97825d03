package orchestrator_test

import (
	"context"
	"fmt"
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
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
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
	"github.com/kubernaut/kubernaut/pkg/orchestrator"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
	"github.com/kubernaut/kubernaut/pkg/shared/testenv"
)

// countingRecorder counts the events the orchestrator writes.
type countingRecorder struct {
	n     *atomic.Int64
	inner interface {
		Eventf(regarding runtime.Object, related runtime.Object, eventtype, reason, action, note string, args ...interface{})
	}
}

func (c countingRecorder) Eventf(regarding runtime.Object, related runtime.Object, eventtype, reason, action, note string, args ...interface{}) {
	c.n.Add(1)
	c.inner.Eventf(regarding, related, eventtype, reason, action, note, args...)
}

func countingClient(inner client.WithWatch, n *atomic.Int64) client.WithWatch {
	return interceptor.NewClient(inner, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			n.Add(1)
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			n.Add(1)
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			n.Add(1)
			return c.Patch(ctx, obj, p, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			n.Add(1)
			return c.Delete(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			n.Add(1)
			return c.SubResource(sub).Patch(ctx, obj, p, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			n.Add(1)
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
	})
}

// benchRig is an orchestrator plus a driver that plays the five child services and the gateway.
type benchRig struct {
	env            *testenv.Env
	ns             string
	orchWrites     atomic.Int64
	driverWrites   atomic.Int64
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

	newMgr := func(name string) manager.Manager {
		o := app.NewOptions(true)
		o.Namespace, o.MetricsBindAddress, o.HealthProbeBindAddress, o.LeaderElect = rig.ns, "0", "0", false
		opts := o.ManagerOptions(name)
		orchestrator.CacheOptions(&opts.Cache, rig.ns)
		skip := true
		opts.Controller.SkipNameValidation = &skip
		cfg := *env.Config
		cfg.QPS, cfg.Burst = -1, 0 // no client-side throttling: measure the API server
		mgr, err := app.NewManager(&cfg, opts)
		require.NoError(b, err)
		return mgr
	}

	// The orchestrator, with its writes counted.
	om := newMgr("orchestrator")
	ocfg := orchestrator.DefaultConfig()
	ocfg.Namespace, ocfg.MaxActive, ocfg.MaxActivePerNamespace, ocfg.StabilizationWindow = rig.ns, 0, 0, time.Hour
	ocfg.MaxConcurrentReconciles = 16
	inner, err := client.NewWithWatch(om.GetConfig(), client.Options{Scheme: om.GetScheme(), Cache: &client.CacheOptions{Reader: om.GetCache()}})
	require.NoError(b, err)
	r := &orchestrator.Reconciler{
		Client:   countingClient(inner, &rig.orchWrites),
		Recorder: countingRecorder{n: &rig.orchWrites, inner: om.GetEventRecorder("remediation-orchestrator")},
		Config:   ocfg,
		Notifier: notificationapi.NewClient(notif.srv.URL, token),
		Audit:    auditapi.NewClient(ds.srv.URL, token),
	}
	require.NoError(b, r.SetupWithManager(ctx, om))

	// The driver: the child services and the gateway, reacting to watches.
	dm := newMgr("driver")
	rig.driver = countingClient(mustWatchClient(b, dm), &rig.driverWrites)
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

// run drives n remediations with inflight of them active at once and returns the elapsed time.
func (rig *benchRig) run(b *testing.B, prefix string, n, inflight int) time.Duration {
	sem := make(chan struct{}, inflight)
	var wg sync.WaitGroup
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
			case <-time.After(2 * time.Minute):
				b.Errorf("%s did not finish", name)
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkLifecycle drives whole remediations (children completed by a driver playing the
// child services) against the envtest API server at 1, 10 and 100 in flight. Run with
// -benchtime=Nx to set the number of remediations per level.
func BenchmarkLifecycle(b *testing.B) {
	env := testenv.Start(b)
	for _, inflight := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("inflight=%d", inflight), func(b *testing.B) {
			rig := newBenchRig(b, env, false)
			b.ResetTimer()
			elapsed := rig.run(b, "rr", b.N, inflight)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "remediations/s")
			b.ReportMetric(float64(rig.orchWrites.Load())/float64(b.N), "orchestrator-writes/remediation")
			b.ReportMetric(float64(rig.driverWrites.Load())/float64(b.N), "driver-writes/remediation")
		})
	}
}

// BenchmarkApprovalNotification measures the time from the driver patching an AIAnalysis to
// Approving to the approval NotificationRequest reaching a watcher, at 10 in flight.
func BenchmarkApprovalNotification(b *testing.B) {
	env := testenv.Start(b)
	rig := newBenchRig(b, env, true)
	b.ResetTimer()
	rig.run(b, "ap", b.N, 10)
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
	return ctrlcontroller.Options{MaxConcurrentReconciles: 8}
}
