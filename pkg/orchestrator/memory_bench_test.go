package orchestrator_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/orchestrator"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

func rssBytes() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkCacheMemory10k loads 10,000 RemediationRequests (each with a 4 KiB original payload,
// labels and annotations, as the gateway writes them) into the orchestrator's cache, configured
// exactly as the service configures it, and reports the heap the cache holds and the process RSS.
func BenchmarkCacheMemory10k(b *testing.B) {
	const n = 10000
	env := testenv.Start(b)
	ns := env.Namespace(b, nil)
	cfg := *env.Config
	cfg.QPS, cfg.Burst = -1, 0
	c, err := client.New(&cfg, client.Options{Scheme: app.NewScheme()})
	require.NoError(b, err)
	payload := bytes.Repeat([]byte("x"), 4096)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > n {
					return
				}
				now := metav1.NewTime(time.Now().Truncate(time.Second))
				fp := fingerprint(fmt.Sprint(ns, i))
				rr := &remediationv1.RemediationRequest{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("rr-%d", i), Namespace: ns,
						Labels: map[string]string{remediationv1.LabelSignalFingerprint: fp[:63], remediationv1.LabelSeverity: "critical", remediationv1.LabelEnvironment: "production"}},
					Spec: remediationv1.RemediationRequestSpec{SignalFingerprint: fp, SignalName: "HighMemoryUsage",
						Severity: remediationv1.SeverityCritical, Environment: remediationv1.EnvironmentProduction, Priority: remediationv1.PriorityP0,
						SignalType: remediationv1.SignalTypePrometheusAlert, FiringTime: now, ReceivedTime: now, SignalSource: "alertmanager",
						TargetResource:    common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: fmt.Sprintf("web-%d", i)},
						SignalLabels:      map[string]string{"alertname": "HighMemoryUsage", "namespace": "shop", "pod": fmt.Sprintf("web-%d-abc", i), "severity": "critical"},
						SignalAnnotations: map[string]string{"summary": "memory above 90% of the limit", "runbook_url": "https://runbooks.example.com/high-memory"},
						OriginalPayload:   payload,
						ProviderData:      &remediationv1.ProviderData{Namespace: "shop", AlertmanagerURL: "http://alertmanager:9093"}},
				}
				if err := c.Create(context.Background(), rr); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()

	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		rssBefore := rssBytes()
		o := app.NewOptions(true)
		o.Namespace = ns
		opts := o.ManagerOptions("orchestrator")
		orchestrator.CacheOptions(&opts.Cache, ns)
		opts.Cache.Scheme, opts.Cache.Mapper = app.NewScheme(), nil
		ca, err := cache.New(&cfg, opts.Cache)
		require.NoError(b, err)
		ctx, cancel := context.WithCancel(context.Background())
		_, err = ca.GetInformer(ctx, &remediationv1.RemediationRequest{})
		require.NoError(b, err)
		go func() { _ = ca.Start(ctx) }()
		require.True(b, ca.WaitForCacheSync(ctx))
		var list remediationv1.RemediationRequestList
		require.NoError(b, ca.List(ctx, &list))
		require.Len(b, list.Items, n)
		list = remediationv1.RemediationRequestList{}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/(1<<20), "cache-heap-MiB")
		b.ReportMetric(float64(rssBytes())/(1<<20), "process-RSS-MiB")
		debug.FreeOSMemory()
		b.ReportMetric(float64(rssBytes())/(1<<20), "process-RSS-after-scavenge-MiB")
		b.ReportMetric(float64(rssBefore)/(1<<20), "RSS-before-MiB")
		cancel()
	}
}
