package gateway_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/gateway"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

// BenchmarkCacheMemory10k reports the heap a gateway's caches hold with 10,000
// RemediationRequests (each with a realistic ~2 KB payload and labels) in its namespace.
// Run it alone: go test -run '^$' -bench CacheMemory -benchtime 1x ./pkg/gateway/
func BenchmarkCacheMemory10k(b *testing.B) {
	const n = 10000
	sys := env.Namespace(b, nil)
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 5000, 10000
	c, err := client.New(cfg, client.Options{Scheme: app.NewScheme()})
	require.NoError(b, err)
	payload := webhook(b, memoryAlert("shop", "web"))
	work := make(chan int)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				now := metav1.NewTime(time.Now())
				target := common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: fmt.Sprintf("web-%d", i)}
				fp := gateway.Fingerprint(target)
				rr := &remediationv1.RemediationRequest{
					ObjectMeta: metav1.ObjectMeta{Namespace: sys, Name: gateway.RequestName(fp, 0), Labels: map[string]string{remediationv1.LabelSignalFingerprint: fp[:63]},
						Annotations: map[string]string{gateway.AnnotationGeneration: "0"}},
					Spec: remediationv1.RemediationRequestSpec{
						SignalFingerprint: fp, SignalName: "HighMemoryUsage", Severity: "critical", Environment: "production", Priority: "P0",
						SignalType: "prometheus-alert", TargetResource: target, FiringTime: now, ReceivedTime: now, OriginalPayload: payload,
						SignalLabels:      map[string]string{"alertname": "HighMemoryUsage", "deployment": target.Name, "namespace": "shop", "severity": "critical", "container": "app"},
						SignalAnnotations: map[string]string{"summary": "Container memory usage is above 90%", "runbook_url": "https://runbooks.example.com/HighMemoryUsage"},
						ProviderData:      &remediationv1.ProviderData{Namespace: "shop", Resource: &target, AlertmanagerURL: "http://alertmanager:9093"},
					},
				}
				if err := c.Create(context.Background(), rr); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()

	before := heap()
	b.ResetTimer()
	for range b.N {
		gw := startGateway(b, sys, options{})
		_ = gw
	}
	b.StopTimer()
	after := heap()
	b.ReportMetric(float64(after-before)/float64(b.N)/(1<<20), "MiB/gateway")
	b.ReportMetric(float64(payloadSize(payload)*n)/(1<<20), "MiB_payload_in_API")
}

func payloadSize(p []byte) int { return len(p) }

// BenchmarkOwnerCacheMemory10k reports the heap the target resolution's metadata cache holds
// after resolving the crash loops of 10,000 Pods (100 Deployments of 100 Pods each), and how
// many objects it keeps (at most --owner-cache-size, 10,000 by default).
// Run it alone: go test -run '^$' -bench OwnerCacheMemory -benchtime 1x ./pkg/gateway/
func BenchmarkOwnerCacheMemory10k(b *testing.B) {
	const deployments, perDeployment = 100, 100
	shop, sys := env.Namespace(b, nil), env.Namespace(b, nil)
	type job struct {
		rs *appsv1.ReplicaSet
		i  int
	}
	work := make(chan job)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				makePod(b, shop, fmt.Sprintf("%s-%05d", j.rs.Name, j.i), j.rs)
			}
		}()
	}
	labels := make([]map[string]string, 0, deployments*perDeployment)
	for d := range deployments {
		rs := makeReplicaSet(b, makeDeployment(b, shop, fmt.Sprintf("web-%d", d)), "5d9c7b8f6d")
		for i := range perDeployment {
			work <- job{rs, i}
			labels = append(labels, podAlert(shop, fmt.Sprintf("%s-%05d", rs.Name, i)).Labels)
		}
	}
	close(work)
	wg.Wait()
	gw := startGateway(b, sys, options{})

	before := heap()
	b.ResetTimer()
	for range b.N {
		for _, l := range labels {
			res, err := gw.gw.ResolveLabels(context.Background(), "KubePodCrashLooping", l)
			if err != nil || res.Target.Kind != "Deployment" {
				b.Fatalf("resolving %s: %v %+v", l["pod"], err, res)
			}
		}
	}
	b.StopTimer()
	after := heap()
	entries := gw.gw.OwnerCacheLen()
	b.ReportMetric(float64(after-before)/(1<<20), "MiB")
	b.ReportMetric(float64(entries), "objects")
	b.ReportMetric(float64(after-before)/float64(max(entries, 1)), "B/object")
	runtime.KeepAlive(labels)
}

// heap is the live heap after two collections.
func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
