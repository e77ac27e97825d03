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
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/apptest"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/processing"
)

const (
	benchDeployments = 100
	benchPodsEach    = 10 // 1,000 pods
	benchEventsEach  = 10 // 10,000 events (per pod, distinct reasons)
)

var benchReasons = []string{"BackOff", "Unhealthy", "FailedMount", "FailedScheduling", "OOMKilling", "FailedCreatePodSandBox",
	"ProbeWarning", "FailedAttachVolume", "NetworkNotReady", "Evicted"}

// populate fills ns with benchDeployments Deployments, each with a ReplicaSet and benchPodsEach
// pods (half crash-looping, statuses written through the status subresource) and
// benchEventsEach Warning events per pod.
func populate(b *testing.B, c client.Client, ns string) {
	ctx := context.Background()
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := populateOne(ctx, c, ns, i); err != nil {
					fail(err)
				}
			}
		}()
	}
	for i := range benchDeployments {
		work <- i
	}
	close(work)
	wg.Wait()
	require.NoError(b, firstErr)
}

func populateOne(ctx context.Context, c client.Client, ns string, i int) error {
	name := fmt.Sprintf("app-%03d", i)
	labels := map[string]string{"app": name}
	image := fmt.Sprintf("registry.example/%s:1.%d", name, i)
	tpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{container("app", image), container("proxy", "envoy:1.30")}}}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](benchPodsEach), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tpl}}
	if err := c.Create(ctx, d); err != nil {
		return err
	}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-r1", Labels: labels,
		Annotations: map[string]string{"deployment.kubernetes.io/revision": "1"}, OwnerReferences: controllerRef(d, "apps/v1", "Deployment")},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](benchPodsEach), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tpl}}
	if err := c.Create(ctx, rs); err != nil {
		return err
	}
	now := time.Now()
	for j := range benchPodsEach {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-%d", name, j), Labels: labels,
			OwnerReferences: controllerRef(rs, "apps/v1", "ReplicaSet")}, Spec: corev1.PodSpec{NodeName: fmt.Sprintf("bench-node-%d", j%5), Containers: tpl.Spec.Containers}}
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
		for k := range benchEventsEach {
			last := metav1.NewTime(now.Add(-time.Duration(k*benchPodsEach+j) * time.Second))
			e := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: p.Name + "."},
				InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: p.Name},
				Type:           corev1.EventTypeWarning, Reason: benchReasons[k], Count: int32(k + 1),
				Message:        fmt.Sprintf("%s: container app in pod %s: %s", benchReasons[k], p.Name, strings.Repeat("detail ", 20)),
				FirstTimestamp: last, LastTimestamp: last, Source: corev1.EventSource{Component: "kubelet"}}
			if err := c.Create(ctx, e); err != nil {
				return err
			}
		}
	}
	return nil
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// BenchmarkEnrichment measures enrichments against a namespace holding 1,000 pods and 10,000
// Warning events (100 Deployments): "enrich" runs Enricher.Context on the warmed cache
// (latency of the reads and the 8 KiB bound), "end-to-end" creates RemediationProcessings and
// waits until the controller completed them (reads, classification and two status patches).
// heap-MiB is the Go heap in use after a GC with the caches synced (a proxy for the service's
// memory: the in-process manager plus the test's own client); set KUBERNAUT_PROCESSING_RSS=1 to
// also start the real binary against the same API server and read its VmRSS.
func BenchmarkEnrichment(b *testing.B) {
	env := testenv.Start(b)
	h := startProcessing(b, env, nil)
	ns := env.Namespace(b, map[string]string{"kubernaut.io/environment": "production"})
	start := time.Now()
	populate(b, env.Client, ns)
	b.Logf("populated %d pods and %d events in %s", benchDeployments*benchPodsEach, benchDeployments*benchPodsEach*benchEventsEach, time.Since(start).Round(time.Second))
	reader := h.mgr.GetCache()
	ctx := context.Background()
	require.Eventually(b, func() bool {
		var pods corev1.PodList
		var events corev1.EventList
		return reader.List(ctx, &pods, client.InNamespace(ns)) == nil && len(pods.Items) == benchDeployments*benchPodsEach &&
			reader.List(ctx, &events, client.InNamespace(ns)) == nil && len(events.Items) == benchDeployments*benchPodsEach*benchEventsEach
	}, 2*time.Minute, 100*time.Millisecond, "the cache should hold the namespace")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapMiB := float64(ms.HeapInuse) / (1 << 20)

	b.Run("enrich", func(b *testing.B) {
		e := &processing.Enricher{Reader: reader}
		durations := make([]time.Duration, 0, b.N)
		var size int
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			kc, n, err := e.Context(ctx, deployTarget(ns, fmt.Sprintf("app-%03d", i%benchDeployments)), processing.Focus{}, processing.MaxContextBytes)
			durations = append(durations, time.Since(t0))
			if err != nil || kc.TargetNotFound {
				b.Fatalf("enrichment failed: %v", err)
			}
			size = n
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "enrichments/s")
		b.ReportMetric(float64(percentile(durations, 0.99).Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(percentile(durations, 0.5).Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(size), "context-bytes")
		b.ReportMetric(heapMiB, "heap-MiB")
	})

	b.Run("end-to-end", func(b *testing.B) {
		names := make([]string, b.N)
		enrichedBefore := counterValue(b, "kubernaut_processing_enrichments_total")
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			names[i] = fmt.Sprintf("bench-%d-%d-processing", b.N, i)
			rp := &processingv1.RemediationProcessing{ObjectMeta: metav1.ObjectMeta{Name: names[i], Namespace: h.sys},
				Spec: processingv1.RemediationProcessingSpec{RemediationRequestRef: processingv1ObjectRef(h.sys, names[i]),
					Alert: processingv1.Alert{Fingerprint: fingerprint(names[i]), Severity: "critical", SignalName: "KubePodCrashLooping",
						TargetResource: deployTarget(ns, fmt.Sprintf("app-%03d", i%benchDeployments))}}}
			if err := env.Client.Create(ctx, rp); err != nil {
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
		b.Run("rss", func(b *testing.B) { measureRSS(b, env, ns) })
	}
}

func processingv1ObjectRef(ns, name string) common.ObjectReference {
	return common.ObjectReference{Name: name, Namespace: ns}
}

// measureRSS starts the processing binary (its own cluster-wide caches over the populated
// namespace) and reports its resident memory once it is ready and settled.
func measureRSS(b *testing.B, env *testenv.Env, ns string) {
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
	probes := apptest.FreeAddr(b)
	args := []string{"--kubeconfig=" + kcPath, "--namespace=" + ns, "--metrics-bind-address=0", "--health-probe-bind-address=" + probes, "--leader-elect=false"}
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
	deadline := time.Now().Add(2 * time.Minute)
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
	rss, hwm := procKiB(cmd.Process.Pid, "VmRSS"), procKiB(cmd.Process.Pid, "VmHWM")
	if profile != "" {
		resp, err := http.Get("http://" + pprofAddr + "/debug/pprof/heap")
		require.NoError(b, err)
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(b, err)
		require.NoError(b, os.WriteFile(profile, raw, 0o644))
	}
	b.ReportMetric(float64(rss)/1024, "rss-MiB")
	b.ReportMetric(float64(hwm)/1024, "peak-MiB")

	// The binary works, not only starts: it completes a processing in its namespace.
	ctx := context.Background()
	rp := &processingv1.RemediationProcessing{ObjectMeta: metav1.ObjectMeta{Name: "binary-processing", Namespace: ns},
		Spec: processingv1.RemediationProcessingSpec{RemediationRequestRef: processingv1ObjectRef(ns, "binary"),
			Alert: processingv1.Alert{Fingerprint: fingerprint("binary"), Severity: "critical", SignalName: "KubePodCrashLooping", TargetResource: deployTarget(ns, "app-000")}}}
	require.NoError(b, env.Client.Create(ctx, rp))
	require.Eventually(b, func() bool {
		return env.Client.Get(ctx, client.ObjectKeyFromObject(rp), rp) == nil && rp.Status.Phase == processingv1.PhaseCompleted
	}, time.Minute, 50*time.Millisecond, "the binary should complete a processing")
	require.Equal(b, "production", rp.Status.EnrichedSignal.Environment)
	require.NotEmpty(b, rp.Status.EnrichedSignal.KubernetesContext.Pods)
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
