package executor_test

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	testchain "github.com/kubernaut/kubernaut/internal/testutil/chain"
	"github.com/kubernaut/kubernaut/internal/timing"
	"github.com/kubernaut/kubernaut/pkg/executor"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

const benchDeployments = 100

// benchRound numbers the rounds of all runs, so names and values are new each round.
var benchRound atomic.Int64

// BenchmarkIncreaseResources runs increase_resources on 100 Deployments through the executor
// (validation, server dry-run, change, status writes; the default number of executions in
// parallel) and, as the ceiling, the same change as raw client-go merge patches with as many workers, on the
// same API server as the same user. It reports operations per second and the p99 latency of
// one operation (KubernetesExecution created → Completed seen; patch sent → answered), and
// (per-call) what each kind of call of an operation costs the API server.
//
//	go test ./pkg/executor/ -run '^$' -bench IncreaseResources -benchtime 3x
func BenchmarkIncreaseResources(b *testing.B) {
	// Rounds change the same Deployments (no cooldown); no Deployment controller runs, so the
	// rollout post-condition is not waited for. Each Deployment is as the Deployment controller
	// leaves it: its revision annotation, and the ReplicaSet of that revision in the namespace.
	h := newHarness(b, map[string]string{executor.KeyCooldown: "0s", executor.KeyPostConditions: "false"})
	for i := range benchDeployments {
		withRevisions(b, h, h.Deployment(fmt.Sprintf("web-%d", i), 1, nil), 1, 1)
	}
	calls := &callCounter{}
	h.Cfg.Wrap(calls.wrap)
	h.Cfg.QPS, h.Cfg.Burst = 300, 600 // the service's default (app.DefaultKubeAPIQPS)
	h.StartExecutor(func(r *executor.Reconciler) {
		r.PollInterval = 2 * time.Second
		r.MaxConcurrentReconciles = benchWorkers()
	})
	// The orchestrator's part (creating executions) and the informer run as administrator; the raw
	// patches as the executor's service account, like the executor's own writes.
	c, err := client.New(env.Config, client.Options{Scheme: app.NewScheme()})
	require.NoError(b, err)
	asExecutor, err := client.New(h.Cfg, client.Options{Scheme: app.NewScheme()})
	require.NoError(b, err)
	ctx := context.Background()

	// Completions are seen by an informer on the executions, as the orchestrator sees them.
	var mu sync.Mutex
	created, finished := map[string]time.Time{}, map[string]time.Time{}
	var failed []string
	progress := make(chan struct{}, 1)
	informers, err := cache.New(env.Config, cache.Options{Scheme: app.NewScheme(), DefaultNamespaces: map[string]cache.Config{h.Sys: {}}})
	require.NoError(b, err)
	inf, err := informers.GetInformer(ctx, &kev1.KubernetesExecution{})
	require.NoError(b, err)
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{UpdateFunc: func(_, obj any) {
		ke := obj.(*kev1.KubernetesExecution)
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		if _, seen := finished[ke.Name]; seen {
			return
		}
		switch ke.Status.Phase {
		case kev1.PhaseCompleted:
		case kev1.PhaseFailed, kev1.PhaseRolledBack:
			failed = append(failed, ke.Name+": "+ke.Status.Message)
		default:
			return
		}
		finished[ke.Name] = now
		select {
		case progress <- struct{}{}:
		default:
		}
	}})
	require.NoError(b, err)
	cctx, cancel := context.WithCancel(ctx)
	b.Cleanup(cancel)
	go func() { _ = informers.Start(cctx) }()
	require.True(b, informers.WaitForCacheSync(cctx))

	b.Run("executor", func(b *testing.B) {
		var lat []time.Duration
		var total time.Duration
		calls.reset()
		var server time.Duration
		for range b.N {
			round := benchRound.Add(1)
			memory := fmt.Sprintf("%dMi", 130+round) // each round a real change
			names := make([]string, benchDeployments)
			// The chains (request, approved analysis, validated workflow) exist before the
			// orchestrator creates an execution; they are not timed.
			b.StopTimer()
			chains := make([]*chain, benchDeployments)
			opsOf := make([][]common.Operation, benchDeployments)
			for i := range benchDeployments {
				chains[i], opsOf[i] = h.approvedChain(op("more-memory", "increase_resources", deploymentTarget(h.App, fmt.Sprintf("web-%d", i)), map[string]string{"memory": memory}))
				names[i] = chains[i].RR.Name + "-execution"
				// The request names its execution (the orchestrator creates the execution and
				// names it in the same reconcile; an execution seen in between waits for its
				// name, which is not what this measures).
				h.Named(chains[i], func(st *remediationv1.RemediationRequestStatus) {
					st.OverallPhase = remediationv1.PhaseExecuting
					st.KubernetesExecutionRef = &common.ObjectReference{Name: names[i], Namespace: h.Sys}
				})
			}
			b.StartTimer()
			server -= apiServerCPU(b)
			start := time.Now()
			var wg sync.WaitGroup
			for i := range benchDeployments {
				wg.Go(func() {
					ke := benchExecution(chains[i], opsOf[i])
					mu.Lock()
					created[ke.Name] = time.Now()
					mu.Unlock()
					if err := c.Create(ctx, ke); err != nil {
						panic(err) // not FailNow: this is not the benchmark's goroutine
					}
				})
			}
			wg.Wait()
			for {
				mu.Lock()
				n, bad := 0, len(failed)
				for _, name := range names {
					if _, ok := finished[name]; ok {
						n++
					}
				}
				mu.Unlock()
				require.Zero(b, bad, "failed executions: %v", failed)
				if n == benchDeployments {
					break
				}
				select {
				case <-progress:
				case <-time.After(wait):
					b.Fatalf("round %d: %d of %d executions finished", round, n, benchDeployments)
				}
			}
			total += time.Since(start)
			server += apiServerCPU(b)
			mu.Lock()
			for _, name := range names {
				lat = append(lat, finished[name].Sub(created[name]))
			}
			mu.Unlock()
		}
		report(b, lat, total)
		b.ReportMetric(float64(server.Microseconds())/1000/float64(b.N*benchDeployments), "apiserver-cpu-ms/op")
		n, by := calls.snapshot()
		ops := float64(b.N * benchDeployments)
		b.ReportMetric(float64(n)/ops, "api-calls/op")
		b.Logf("the executor's API requests per operation (watches excluded): %.2f\n%s", float64(n)/ops, formatCalls(by, ops))
	})

	// What each of the executor's calls costs the API server, one kind at a time: the executions
	// of the last round replayed (created again outside the executor's namespace, their two
	// status writes; an Event on each), and the reads and writes of their Deployments.
	b.Run("per-call", func(b *testing.B) {
		var done kev1.KubernetesExecutionList
		require.NoError(b, c.List(ctx, &done, client.InNamespace(h.Sys)))
		done.Items = slices.DeleteFunc(done.Items, func(ke kev1.KubernetesExecution) bool { return ke.Status.Phase != kev1.PhaseCompleted })
		require.NotEmpty(b, done.Items, "run the executor benchmark first")
		done.Items = done.Items[:min(len(done.Items), benchDeployments)]
		n := len(done.Items)
		copies := make([]*kev1.KubernetesExecution, n)
		costs := map[string]time.Duration{}
		var names []string // in the order of an operation
		each := func(name string, call func(i int) error) {
			if _, seen := costs[name]; !seen {
				names = append(names, name)
			}
			before := apiServerCPU(b)
			inParallel(n, func(i int) {
				if err := call(i); err != nil {
					panic(fmt.Sprintf("%s: %v", name, err)) // not FailNow: not the benchmark's goroutine
				}
			})
			costs[name] += apiServerCPU(b) - before
		}
		// writeStatus writes execution copy i's status as the executor does: src's, Running or
		// as it ended.
		writeStatus := func(i int, running bool) error {
			base := copies[i].DeepCopy()
			copies[i].Status = *done.Items[i].Status.DeepCopy()
			if running {
				copies[i].Status.Phase, copies[i].Status.CompletionTime = kev1.PhaseExecuting, nil
				res := &copies[i].Status.OperationResults[0]
				res.Phase, res.AppliedTime, res.CompletionTime = kev1.OperationRunning, nil, nil
			}
			return asExecutor.Status().Patch(ctx, copies[i], client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
		}
		for range b.N {
			round := benchRound.Add(1)
			each("create the execution", func(i int) error {
				src := done.Items[i]
				copies[i] = &kev1.KubernetesExecution{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", src.Name, round), Namespace: h.App}, Spec: src.Spec}
				return c.Create(ctx, copies[i])
			})
			each("status: Running", func(i int) error { return writeStatus(i, true) })
			each("status: Completed", func(i int) error { return writeStatus(i, false) })
			each("event", func(i int) error {
				now := metav1.NewMicroTime(time.Now())
				return asExecutor.Create(ctx, &eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%d", done.Items[i].Name, round), Namespace: h.Sys},
					EventTime: now, ReportingController: "kubernaut.io/executor", ReportingInstance: "bench", Action: "Execute", Reason: kev1.ReasonExecuted,
					Type: corev1.EventTypeNormal, Note: copies[i].Status.Message,
					Regarding: corev1.ObjectReference{APIVersion: kev1.GroupVersion.String(), Kind: "KubernetesExecution", Namespace: h.Sys, Name: done.Items[i].Name, UID: done.Items[i].UID}})
			})
			deployments := make([]*appsv1.Deployment, n)
			each("target: read", func(i int) error {
				deployments[i] = &appsv1.Deployment{}
				return asExecutor.Get(ctx, key(h.App, fmt.Sprintf("web-%d", i)), deployments[i])
			})
			patch := func(i int, opts ...client.PatchOption) error {
				d := deployments[i].DeepCopy()
				c := &d.Spec.Template.Spec.Containers[0]
				c.Resources.Limits[corev1.ResourceMemory] = resource.MustParse(fmt.Sprintf("%dMi", 600+round))
				return asExecutor.Patch(ctx, d, client.MergeFromWithOptions(deployments[i], client.MergeFromWithOptimisticLock{}), opts...)
			}
			each("target: server-side dry-run", func(i int) error { return patch(i, client.DryRunAll) })
			each("target: patch", func(i int) error { return patch(i) })
		}
		ops := float64(b.N * n)
		var sb strings.Builder
		var total time.Duration
		for _, name := range names {
			fmt.Fprintf(&sb, "  %-30s %6.2f ms\n", name, float64(costs[name].Microseconds())/1000/ops)
			total += costs[name]
		}
		b.ReportMetric(float64(total.Microseconds())/1000/ops, "apiserver-cpu-ms/op")
		b.Logf("the API server's CPU per call, %d at a time (%d executions of the last round replayed):\n%s",
			cmp.Or(benchWorkers(), executor.DefaultMaxConcurrentReconciles), n, sb.String())
	})

	b.Run("raw-patch", func(b *testing.B) {
		var lat []time.Duration
		var mu sync.Mutex
		var total time.Duration
		server := apiServerCPU(b)
		for range b.N {
			round := benchRound.Add(1)
			patch := fmt.Appendf(nil, `{"spec":{"template":{"spec":{"containers":[{"name":"app","resources":{"requests":{"memory":"%dMi"},"limits":{"memory":"%dMi"}}}]}}}}`, 400+round, 400+round)
			start := time.Now()
			inParallel(benchDeployments, func(i int) {
				d := &appsv1.Deployment{}
				d.Namespace, d.Name = h.App, fmt.Sprintf("web-%d", i)
				t := time.Now()
				if err := asExecutor.Patch(ctx, d, client.RawPatch(types.StrategicMergePatchType, patch)); err != nil {
					panic(err)
				}
				mu.Lock()
				lat = append(lat, time.Since(t))
				mu.Unlock()
			})
			total += time.Since(start)
		}
		report(b, lat, total)
		b.ReportMetric(float64((apiServerCPU(b)-server).Microseconds())/1000/float64(b.N*benchDeployments), "apiserver-cpu-ms/op")
	})
}

// apiServerCPU is the CPU time the test's kube-apiserver (a child of this process) has used, so
// that each way of making the change reports what it cost the API server; the creation of the
// executions is inside the executor's measurement, as it is in the executor's timing.
func apiServerCPU(b *testing.B) time.Duration {
	b.Helper()
	d, err := timing.ChildCPU("kube-apiserver")
	if err != nil {
		b.Skipf("the API server's CPU: %v", err)
	}
	return d
}

// benchExecution is what the orchestrator's buildExecution creates for one operation.
func benchExecution(c *chain, ops []common.Operation) *kev1.KubernetesExecution {
	return &kev1.KubernetesExecution{
		ObjectMeta: metav1.ObjectMeta{Name: c.RR.Name + "-execution", Namespace: c.RR.Namespace, OwnerReferences: []metav1.OwnerReference{testchain.OwnerRef(c.RR)}},
		Spec: kev1.KubernetesExecutionSpec{
			RemediationRequestRef: common.ObjectReference{Name: c.RR.Name, Namespace: c.RR.Namespace},
			Operations:            ops,
			ExecutionConfig:       kev1.ExecutionConfig{SafetyValidation: ptr.To(true), Timeout: &metav1.Duration{Duration: 10 * time.Minute}},
		},
	}
}

func report(b *testing.B, lat []time.Duration, total time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/total.Seconds(), "ops/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
}

// callCounter counts the executor's API requests (not its watches) by verb and resource, named
// as the services' own kubernaut_kube_api_requests_total names them (app.KubeRequest).
type callCounter struct {
	mu sync.Mutex
	by map[string]int
}

func (c *callCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return app.OnRequest(func(verb, resource string, dryRun bool) {
		if verb == "watch" {
			return
		}
		key := verb + " " + resource
		if dryRun {
			key += " (dry run)"
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.by == nil {
			c.by = map[string]int{}
		}
		c.by[key]++
	})(rt)
}

func (c *callCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.by = map[string]int{}
}

func (c *callCounter) snapshot() (int, map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.by {
		n += v
	}
	return n, maps.Clone(c.by)
}

func formatCalls(by map[string]int, ops float64) string {
	keys := slices.Collect(maps.Keys(by))
	slices.SortFunc(keys, func(a, b string) int { return by[b] - by[a] })
	var sb strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&sb, "  %-72s %6d  %.2f/op\n", k, by[k], float64(by[k])/ops)
	}
	return sb.String()
}

// inParallel calls call(0..n-1) from as many goroutines as the executor has workers
// (benchWorkers, else its default) and returns when all have returned.
func inParallel(n int, call func(i int)) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range cmp.Or(benchWorkers(), executor.DefaultMaxConcurrentReconciles) {
		wg.Go(func() {
			for i := range work {
				call(i)
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}

// benchWorkers is the executor's --max-concurrent-executions in the benchmark:
// KUBERNAUT_BENCH_EXECUTOR_WORKERS, else the default (0).
func benchWorkers() int {
	n, _ := strconv.Atoi(os.Getenv("KUBERNAUT_BENCH_EXECUTOR_WORKERS"))
	return n
}
