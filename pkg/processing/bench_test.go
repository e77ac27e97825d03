package processing_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/apptest"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/internal/timing"
	"github.com/kubernaut/kubernaut/pkg/processing"
)

// benchLayout is a cluster to enrich in: namespaces × deployments Deployments, each with one
// ReplicaSet and podsEach pods (half crash-looping, statuses written through the status
// subresource), spread over nodes Nodes, and eventsEach Warning events per pod (distinct reasons).
type benchLayout struct {
	namespaces, deployments, podsEach, eventsEach, nodes int
}

func (l benchLayout) pods() int   { return l.namespaces * l.deployments * l.podsEach }
func (l benchLayout) events() int { return l.pods() * l.eventsEach }

var benchReasons = []string{"BackOff", "Unhealthy", "FailedMount", "FailedScheduling", "OOMKilling", "FailedCreatePodSandBox",
	"ProbeWarning", "FailedAttachVolume", "NetworkNotReady", "Evicted"}

// populate creates the layout's nodes, namespaces and workloads with a client without
// client-side rate limit, 32 Deployments at a time, and returns the Deployments as targets.
func populate(b testing.TB, env *testenv.Env, l benchLayout) []common.TargetResource {
	ctx := context.Background()
	c := fastClient(b, env)
	start := time.Now()
	prefix := fmt.Sprintf("bench-%d", time.Now().UnixNano()%100000)
	var nodes []string
	for i := range l.nodes {
		nodes = append(nodes, fmt.Sprintf("%s-node-%d", prefix, i))
	}
	var namespaces []string
	for i := range l.namespaces {
		namespaces = append(namespaces, fmt.Sprintf("%s-ns-%03d", prefix, i))
	}
	run(b, 32, l.nodes, func(i int) error { return createNode(ctx, c, nodes[i]) })
	run(b, 32, l.namespaces, func(i int) error {
		return c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespaces[i], Labels: map[string]string{"kubernaut.io/environment": "production"}}})
	})
	var targets []common.TargetResource
	for d := range l.deployments { // Deployments interleaved across namespaces: consecutive targets are in different ones
		for n := range l.namespaces {
			targets = append(targets, deployTarget(namespaces[n], fmt.Sprintf("app-%03d", d)))
		}
	}
	var podCounter, done atomic.Int64
	stop := make(chan struct{})
	go func() { // progress on stderr: populating the large cluster takes minutes
		for {
			select {
			case <-stop:
				return
			case <-time.After(30 * time.Second):
				fmt.Fprintf(os.Stderr, "populating: %d of %d Deployments after %s\n", done.Load(), len(targets), time.Since(start).Round(time.Second))
			}
		}
	}()
	run(b, 32, len(targets), func(i int) error {
		defer done.Add(1)
		return populateOne(ctx, c, targets[i].Namespace, targets[i].Name, l, func() string { return nodes[int(podCounter.Add(1))%len(nodes)] })
	})
	close(stop)
	fmt.Fprintf(os.Stderr, "populated %d nodes, %d namespaces, %d pods and %d events in %s\n", l.nodes, l.namespaces, l.pods(), l.events(), time.Since(start).Round(time.Second))
	return targets
}

// run calls fn(0..n-1) from workers goroutines and fails b with the first error.
func run(b testing.TB, workers, n int, fn func(int) error) {
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range workers {
		wg.Go(func() {
			for i := range work {
				if err := fn(i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	require.NoError(b, firstErr)
}

func createNode(ctx context.Context, c client.Client, name string) error {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}}}
	if err := c.Create(ctx, n); err != nil {
		return err
	}
	now := metav1.Now()
	n.Status.Allocatable = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("16"), corev1.ResourceMemory: resource.MustParse("64Gi"), corev1.ResourcePods: resource.MustParse("250")}
	n.Status.Capacity = n.Status.Allocatable
	n.Status.Conditions = []corev1.NodeCondition{
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: now, LastTransitionTime: now},
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", LastHeartbeatTime: now, LastTransitionTime: now},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", LastHeartbeatTime: now, LastTransitionTime: now},
	}
	return c.Status().Update(ctx, n)
}

func populateOne(ctx context.Context, c client.Client, ns, name string, l benchLayout, node func() string) error {
	labels := map[string]string{"app": name}
	image := fmt.Sprintf("registry.example/%s/%s:1.4", ns, name)
	tpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{container("app", image), container("proxy", "envoy:1.30")}}}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(int32(l.podsEach)), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tpl}}
	if err := c.Create(ctx, d); err != nil {
		return err
	}
	rsLabels := map[string]string{"app": name, "pod-template-hash": "r1"}
	rsTpl := *tpl.DeepCopy()
	rsTpl.Labels = rsLabels
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-r1", Labels: rsLabels,
		Annotations: map[string]string{"deployment.kubernetes.io/revision": "1"}, OwnerReferences: controllerRef(d, "apps/v1", "Deployment")},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To(int32(l.podsEach)), Selector: &metav1.LabelSelector{MatchLabels: rsLabels}, Template: rsTpl}}
	if err := c.Create(ctx, rs); err != nil {
		return err
	}
	now := time.Now()
	for j := range l.podsEach {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-r1-%d", name, j), Labels: rsLabels,
			OwnerReferences: controllerRef(rs, "apps/v1", "ReplicaSet")}, Spec: corev1.PodSpec{NodeName: node(), Containers: tpl.Spec.Containers}}
		if err := c.Create(ctx, p); err != nil {
			return err
		}
		if j%2 == 0 {
			crashLooping(image)(p)
		} else {
			running(image)(p)
		}
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: "proxy", Ready: true, Image: "envoy:1.30", ImageID: "sha256:3",
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}})
		if err := c.Status().Update(ctx, p); err != nil {
			return err
		}
		for k := range l.eventsEach {
			last := metav1.NewTime(now.Add(-time.Duration(k*l.podsEach+j) * time.Second))
			e := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: p.Name + "."},
				InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: p.Name},
				Type:           corev1.EventTypeWarning, Reason: benchReasons[k%len(benchReasons)], Count: int32(k + 1),
				Message:        fmt.Sprintf("%s: container app in pod %s: %s", benchReasons[k%len(benchReasons)], p.Name, strings.Repeat("detail ", 20)),
				FirstTimestamp: last, LastTimestamp: last, Source: corev1.EventSource{Component: "kubelet"}}
			if err := c.Create(ctx, e); err != nil {
				return err
			}
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// countingReader counts the reads enrichment makes, and times them by kind.
type countingReader struct {
	client.Reader
	n     atomic.Int64
	mu    sync.Mutex
	times map[string][]time.Duration
}

func (c *countingReader) record(kind string, t0 time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.times == nil {
		c.times = map[string][]time.Duration{}
	}
	c.times[kind] = append(c.times[kind], time.Since(t0))
}

func (c *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.n.Add(1)
	defer c.record(fmt.Sprintf("get %T", obj), time.Now())
	return c.Reader.Get(ctx, key, obj, opts...)
}

func (c *countingReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	c.n.Add(1)
	kind := fmt.Sprintf("list %T", list)
	if o := (&client.ListOptions{}).ApplyOptions(opts); o.FieldSelector != nil && !o.FieldSelector.Empty() {
		kind += " " + strings.SplitN(o.FieldSelector.String(), "=", 2)[0]
	}
	defer c.record(kind, time.Now())
	return c.Reader.List(ctx, list, opts...)
}

// report logs the reads by kind since the last report: how many, p50 and p99.
func (c *countingReader) report(b *testing.B) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kinds := make([]string, 0, len(c.times))
	for k := range c.times {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		if b == nil {
			break
		}
		fmt.Fprintf(os.Stderr, "%s: %-56s %6d reads  p50 %6.1f ms  p99 %6.1f ms\n", b.Name(), k, len(c.times[k]), ms(timing.Percentile(c.times[k], 0.5)), ms(timing.Percentile(c.times[k], 0.99)))
	}
	c.times = nil
}

// BenchmarkEnrichment enriches Deployments of a namespace holding 1,000 pods and 10,000
// Warning events (100 Deployments on 5 nodes): a noisy namespace, whose events are read object
// by object. See benchEnrichment for the sub-benchmarks.
func BenchmarkEnrichment(b *testing.B) {
	benchEnrichment(b, benchLayout{namespaces: 1, deployments: 100, podsEach: 10, eventsEach: 10, nodes: 5})
}

// BenchmarkEnrichmentLargeCluster enriches Deployments of a cluster holding 20,000 pods in 500
// namespaces (4 Deployments of 10 pods each) on 200 nodes, with 100,000 Warning events (5 per
// pod). Populating it takes several minutes on 2 cores, so it runs only with
// KUBERNAUT_PROCESSING_LARGE=1 (make bench-processing-large).
func BenchmarkEnrichmentLargeCluster(b *testing.B) {
	if os.Getenv("KUBERNAUT_PROCESSING_LARGE") == "" {
		b.Skip("set KUBERNAUT_PROCESSING_LARGE=1 (make bench-processing-large): populating 20,000 pods and 100,000 events takes minutes")
	}
	benchEnrichment(b, benchLayout{namespaces: 500, deployments: 4, podsEach: 10, eventsEach: 5, nodes: 200})
}

// benchEnrichment populates the layout, then:
//   - "enrich-alone" runs Enricher.Context one at a time over the Deployments, each with a new
//     Enricher (an incident alone: nothing shared with the one before; live reads, 8 KiB bound):
//     p50/p99 latency, API reads per enrichment, context size, and the test process's Go heap
//     after a GC; "enrich" the same with one Enricher, as the controller has (what the
//     incidents before read recently serves: node facts, the events of default);
//   - "enrich-8-parallel" runs 8 at once with one Enricher, as the controller's default 8
//     workers do in an alert storm (the events of a namespace read once for the incidents in it);
//   - "end-to-end" creates RemediationProcessings and waits until the controller completed them
//     (reads, classification and two status patches);
//   - with KUBERNAUT_PROCESSING_RSS=1, "rss" starts the real binary against the same API server
//     and reads its VmRSS idle and after a burst of processings (see measureRSS).
func benchEnrichment(b *testing.B, l benchLayout) {
	env := testenv.Start(b)
	h := startProcessing(b, env, nil)
	targets := populate(b, env, l)
	ctx := context.Background()
	reader := &countingReader{Reader: h.mgr.GetAPIReader()}
	shared := &processing.Enricher{Reader: reader}
	enrich := func(e *processing.Enricher, t common.TargetResource) (int, error) {
		kc, n, err := e.Context(ctx, t, processing.Focus{}, processing.MaxContextBytes)
		if err == nil && kc.TargetNotFound {
			err = fmt.Errorf("%s/%s not found", t.Namespace, t.Name)
		}
		return n, err
	}

	b.Run("enrich-alone", func(b *testing.B) {
		benchSequential(b, reader, targets, func() *processing.Enricher { return &processing.Enricher{Reader: reader} }, enrich)
	})
	b.Run("enrich", func(b *testing.B) {
		benchSequential(b, reader, targets, func() *processing.Enricher { return shared }, enrich)
	})

	b.Run("enrich-8-parallel", func(b *testing.B) {
		reader.report(nil)
		durations := make([]time.Duration, b.N)
		reads := reader.n.Load()
		var next atomic.Int64
		b.ResetTimer()
		run(b, 8, b.N, func(i int) error {
			t0 := time.Now()
			_, err := enrich(shared, targets[int(next.Add(1))%len(targets)])
			durations[i] = time.Since(t0)
			return err
		})
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "enrichments/s")
		b.ReportMetric(ms(timing.Percentile(durations, 0.99)), "p99-ms")
		b.ReportMetric(ms(timing.Percentile(durations, 0.5)), "p50-ms")
		b.ReportMetric(float64(reader.n.Load()-reads)/float64(b.N), "reads/enrichment")
		reader.report(b)
	})

	b.Run("end-to-end", func(b *testing.B) {
		names := make([]string, b.N)
		enrichedBefore := counterValue(b, "kubernaut_processing_enrichments_total")
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			names[i] = fmt.Sprintf("bench-%d-%d-processing", b.N, i)
			if err := env.Client.Create(ctx, benchProcessing(h.sys, names[i], targets[i%len(targets)])); err != nil {
				b.Fatal(err)
			}
		}
		for _, name := range names {
			for {
				rp := &processingv1.RemediationProcessing{}
				if err := env.Client.Get(ctx, client.ObjectKey{Namespace: h.sys, Name: name}, rp); err == nil && rp.Status.Phase == processingv1.PhaseCompleted {
					break
				}
				time.Sleep(5 * time.Millisecond) // polling the API server for the benchmark's end, not test state
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "processings/s")
		b.ReportMetric(counterValue(b, "kubernaut_processing_enrichments_total")-enrichedBefore, "enrichments")
	})

	if os.Getenv("KUBERNAUT_PROCESSING_RSS") != "" {
		b.Run("rss", func(b *testing.B) { measureRSS(b, env, targets) })
	}
}

// benchSequential runs enrichments one at a time with the Enricher that enricher returns.
func benchSequential(b *testing.B, reader *countingReader, targets []common.TargetResource, enricher func() *processing.Enricher,
	enrich func(*processing.Enricher, common.TargetResource) (int, error)) {
	reader.report(nil)
	durations := make([]time.Duration, 0, b.N)
	var size int
	reads := reader.n.Load()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		n, err := enrich(enricher(), targets[i%len(targets)])
		durations = append(durations, time.Since(t0))
		if err != nil {
			b.Fatalf("enrichment failed: %v", err)
		}
		size = n
	}
	b.StopTimer()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "enrichments/s")
	b.ReportMetric(ms(timing.Percentile(durations, 0.99)), "p99-ms")
	b.ReportMetric(ms(timing.Percentile(durations, 0.5)), "p50-ms")
	b.ReportMetric(float64(reader.n.Load()-reads)/float64(b.N), "reads/enrichment")
	b.ReportMetric(float64(size), "context-bytes")
	b.ReportMetric(float64(m.HeapInuse)/(1<<20), "heap-MiB")
	reader.report(b)
}

func benchProcessing(ns, name string, target common.TargetResource) *processingv1.RemediationProcessing {
	return &processingv1.RemediationProcessing{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: processingv1.RemediationProcessingSpec{RemediationRequestRef: common.ObjectReference{Name: name, Namespace: ns},
			Alert: processingv1.Alert{Fingerprint: fingerprint(name), Severity: "critical", SignalName: "KubePodCrashLooping", TargetResource: target}}}
}

// rssBurst is how many processings the binary completes before its RSS is read again.
const rssBurst = 200

// measureRSS starts the processing binary (GOMEMLIMIT=90MiB, as deployed) with a system
// namespace of its own, reads its resident memory once it is ready and settled (idle-rss-MiB),
// then creates rssBurst RemediationProcessings at once over the targets and, when it completed
// them all, reads it again (rss-MiB) with its peak (peak-MiB) and the burst's rate.
func measureRSS(b *testing.B, env *testenv.Env, targets []common.TargetResource) {
	user, err := env.Environment.AddUser(envtest.User{Name: "processing-rss", Groups: []string{"system:masters"}}, nil)
	require.NoError(b, err)
	kc, err := user.KubeConfig()
	require.NoError(b, err)
	dir := b.TempDir()
	kcPath := filepath.Join(dir, "kubeconfig")
	require.NoError(b, os.WriteFile(kcPath, kc, 0o600))
	build := exec.Command("go", "build", "-o", dir+"/", "github.com/kubernaut/kubernaut/cmd/processing")
	build.Dir = testenv.RepoRoot()
	out, err := build.CombinedOutput()
	require.NoError(b, err, string(out))
	sys := env.Namespace(b, nil)
	probes := apptest.FreeAddr(b)
	args := []string{"--kubeconfig=" + kcPath, "--namespace=" + sys, "--metrics-bind-address=0", "--health-probe-bind-address=" + probes, "--leader-elect=false"}
	profile := os.Getenv("KUBERNAUT_PROCESSING_HEAP_PROFILE") // a file to write the binary's heap profile to
	pprofAddr := ""
	if profile != "" {
		pprofAddr = apptest.FreeAddr(b)
		args = append(args, "--pprof-bind-address="+pprofAddr)
	}
	cmd := exec.Command(filepath.Join(dir, "processing"), args...)
	cmd.Env = append(os.Environ(), "GOMEMLIMIT=90MiB")
	require.NoError(b, cmd.Start())
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + probes + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		time.Sleep(200 * time.Millisecond) // polling a child process's probe
	}
	time.Sleep(10 * time.Second) // caches synced and settled
	b.ReportMetric(float64(procKiB(cmd.Process.Pid, "VmRSS"))/1024, "idle-rss-MiB")

	// The binary works, not only starts: it completes a burst of processings in its namespace.
	ctx := context.Background()
	c := fastClient(b, env)
	start := time.Now()
	run(b, 16, rssBurst, func(i int) error {
		return c.Create(ctx, benchProcessing(sys, fmt.Sprintf("binary-%d-processing", i), targets[(i*7)%len(targets)]))
	})
	require.Eventually(b, func() bool {
		var rps processingv1.RemediationProcessingList
		if c.List(ctx, &rps, client.InNamespace(sys)) != nil {
			return false
		}
		done := 0
		for _, rp := range rps.Items {
			if rp.Status.Phase == processingv1.PhaseCompleted {
				done++
			}
		}
		return done == rssBurst
	}, 5*time.Minute, 100*time.Millisecond, "the binary should complete the processings")
	b.ReportMetric(float64(rssBurst)/time.Since(start).Seconds(), "burst-processings/s")
	b.ReportMetric(float64(procKiB(cmd.Process.Pid, "VmRSS"))/1024, "rss-MiB")
	b.ReportMetric(float64(procKiB(cmd.Process.Pid, "VmHWM"))/1024, "peak-MiB")
	rp := &processingv1.RemediationProcessing{}
	require.NoError(b, c.Get(ctx, client.ObjectKey{Namespace: sys, Name: "binary-0-processing"}, rp))
	require.Equal(b, "production", rp.Status.EnrichedSignal.Environment)
	require.NotEmpty(b, rp.Status.EnrichedSignal.KubernetesContext.Pods)
	if profile != "" {
		resp, err := http.Get("http://" + pprofAddr + "/debug/pprof/heap")
		require.NoError(b, err)
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(b, err)
		require.NoError(b, os.WriteFile(profile, raw, 0o644))
	}
}

func procKiB(pid int, field string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field+":") {
			v, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return v
		}
	}
	return -1
}

// counterValue sums a counter family of controller-runtime's registry.
func counterValue(b *testing.B, name string) float64 {
	families, err := ctrlmetrics.Registry.Gather()
	require.NoError(b, err)
	var sum float64
	for _, f := range families {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
