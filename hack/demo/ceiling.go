package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// writeCounts are the API server's mutating requests (apiserver_request_total with verb POST,
// PUT, PATCH or DELETE) by "verb group/resource[/subresource]".
type writeCounts map[string]float64

// scrapeWrites reads the API server's /metrics as the administrator.
func scrapeWrites(ctx context.Context, cfg *rest.Config) (writeCounts, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	body, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the API server's metrics: %w", err)
	}
	out := writeCounts{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		end := strings.LastIndexByte(line, '}')
		if end < 0 {
			continue
		}
		labels := parseLabels(line[len("apiserver_request_total{"):end])
		switch labels["verb"] {
		case "POST", "PUT", "PATCH", "DELETE":
		default:
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
		if err != nil {
			continue
		}
		res := labels["resource"]
		if labels["group"] != "" {
			res = labels["group"] + "/" + res
		}
		if labels["subresource"] != "" {
			res += "/" + labels["subresource"]
		}
		key := labels["verb"] + " " + res
		if labels["dry_run"] != "" {
			key += " (dry run)"
		}
		out[key] += v
	}
	return out, sc.Err()
}

// parseLabels parses `a="x",b="y"` (the API server's label values hold no quotes or commas).
func parseLabels(s string) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if ok {
			m[k] = strings.Trim(v, `"`)
		}
	}
	return m
}

// kubernautWrites is the part of the difference after−before that Kubernaut makes: every write
// to its own API group, and the changes to Deployments (the executor's patches; the bench's
// incidents are staged before the first count). Writes of the Kubernetes controllers that follow
// a change (ReplicaSets, Pods) and Events are left out.
func kubernautWrites(before, after writeCounts) (total float64, by map[string]float64) {
	by = map[string]float64{}
	for k, v := range after {
		d := v - before[k]
		if d <= 0 {
			continue
		}
		_, res, _ := strings.Cut(k, " ")
		group, _, _ := strings.Cut(res, "/")
		if strings.HasSuffix(group, "kubernaut.io") || (strings.HasPrefix(res, "apps/deployments") && strings.HasPrefix(k, "PATCH")) {
			by[k] = d
			total += d
		}
	}
	return total, by
}

// formatWrites lists the largest counts first.
func formatWrites(by map[string]float64, n int) string {
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return by[keys[i]] > by[keys[j]] })
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "    %-62s %8.0f  %5.1f per remediation\n", k, by[k], by[k]/float64(n))
	}
	return b.String()
}

// writeCeiling measures the API server's write ceiling on this machine: ConfigMap creates from
// workers clients at once for d, as writes per second.
func writeCeiling(ctx context.Context, cfg *rest.Config, workers int, d time.Duration) (float64, error) {
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = -1, 0 // no client-side limit: the server's ceiling
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		return 0, err
	}
	ns := fmt.Sprintf("bench-ceiling-%d", time.Now().UnixNano())
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return 0, err
	}
	defer func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) }()
	var done atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("w%d-%d", w, i)}, Data: map[string]string{"k": "v"}}
				if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok && err != nil {
		return 0, err
	}
	return float64(done.Load()) / time.Since(start).Seconds(), nil
}
