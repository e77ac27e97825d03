package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/kubernaut/kubernaut/internal/launcher"
)

// serviceCounters are the counters of one service's /metrics the benchmark compares before and
// after a round: per controller, the reconciles with their summed time and the summed time items
// waited in the work queue; the process's CPU seconds.
type serviceCounters map[string]float64

// profiledMetrics are the counters read, by name prefix.
var profiledMetrics = []string{
	"controller_runtime_reconcile_time_seconds_sum", "controller_runtime_reconcile_time_seconds_count",
	"workqueue_queue_duration_seconds_sum", "workqueue_queue_duration_seconds_count",
	"process_cpu_seconds_total", requestsMetric,
}

// requestsMetric is every service's count of its requests to the API server (pkg/shared/app).
const requestsMetric = "kubernaut_kube_api_requests_total"

// scrapeServices reads every controller service's counters (the HTTP-only services have no
// work queue; their CPU is read too).
func scrapeServices(ctx context.Context, sys *launcher.System) (map[string]serviceCounters, error) {
	out := map[string]serviceCounters{}
	for name, s := range sys.Services {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.MetricsAddr+"/metrics", nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("reading the metrics of %s: %w", name, err)
		}
		m := serviceCounters{}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if !slices.ContainsFunc(profiledMetrics, func(p string) bool { return strings.HasPrefix(line, p) }) {
				continue
			}
			sp := strings.LastIndexByte(line, ' ')
			v, err := strconv.ParseFloat(line[sp+1:], 64)
			if err != nil {
				continue
			}
			m[line[:sp]] += v
		}
		_ = resp.Body.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("reading the metrics of %s: %w", name, err)
		}
		out[name] = m
	}
	return out, nil
}

// formatProfile prints, per service and controller, what a round cost: reconciles, their mean
// time, the mean wait in the work queue, and the service's CPU seconds.
func formatProfile(before, after map[string]serviceCounters) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %-14s %-28s %10s %12s %12s %8s\n", "service", "controller", "reconciles", "mean time", "mean queued", "CPU s")
	names := make([]string, 0, len(after))
	for n := range after {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		a, bf := after[n], before[n]
		d := func(k string) float64 { return a[k] - bf[k] }
		cpu := d("process_cpu_seconds_total")
		var ctrls []string
		for k := range a {
			if c, ok := strings.CutPrefix(k, `controller_runtime_reconcile_time_seconds_count{controller="`); ok {
				ctrls = append(ctrls, strings.TrimSuffix(c, `"}`))
			}
		}
		slices.Sort(ctrls)
		if len(ctrls) == 0 {
			fmt.Fprintf(&b, "  %-14s %-28s %10s %12s %12s %8.2f\n", n, "-", "-", "-", "-", cpu)
		}
		for _, c := range ctrls {
			rc := d(`controller_runtime_reconcile_time_seconds_count{controller="` + c + `"}`)
			rs := d(`controller_runtime_reconcile_time_seconds_sum{controller="` + c + `"}`)
			qc := d(`workqueue_queue_duration_seconds_count{controller="` + c + `",name="` + c + `"}`)
			qs := d(`workqueue_queue_duration_seconds_sum{controller="` + c + `",name="` + c + `"}`)
			fmt.Fprintf(&b, "  %-14s %-28s %10.0f %12s %12s %8.2f\n", n, c, rc, ms(rs, rc), ms(qs, qc), cpu)
		}
	}
	return b.String()
}

func ms(sum, count float64) string {
	if count <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f ms", 1000*sum/count)
}

// formatRequests prints, per service, its requests to the API server per remediation during a
// round (requestsMetric; watches are opened once and not counted): reads (get, list), writes
// (create, update, patch, delete; server-side dry runs included) and the most frequent ones.
func formatRequests(before, after map[string]serviceCounters, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %-14s %6s %7s  %s\n", "service", "reads", "writes", "per remediation, the most frequent")
	names := make([]string, 0, len(after))
	for name := range after {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		type count struct {
			key string
			v   float64
		}
		var reads, writes float64
		var top []count
		for k, v := range after[name] {
			inner, ok := strings.CutPrefix(k, requestsMetric+"{")
			if !ok {
				continue
			}
			d := v - before[name][k]
			if d <= 0 {
				continue
			}
			l := parseLabels(strings.TrimSuffix(inner, "}"))
			key := l["verb"] + " " + l["resource"]
			if l["dry_run"] == "true" {
				key += " (dry run)"
			}
			switch l["verb"] {
			case "get", "list":
				reads += d
			case "watch":
				continue
			default:
				writes += d
			}
			top = append(top, count{key, d})
		}
		if reads+writes == 0 {
			continue
		}
		slices.SortFunc(top, func(x, y count) int {
			return cmp.Or(cmp.Compare(y.v, x.v), strings.Compare(x.key, y.key))
		})
		var most []string
		for _, c := range top[:min(len(top), 5)] {
			most = append(most, fmt.Sprintf("%s %.1f", c.key, c.v/float64(n)))
		}
		fmt.Fprintf(&b, "  %-14s %6.1f %7.1f  %s\n", name, reads/float64(n), writes/float64(n), strings.Join(most, ", "))
	}
	return b.String()
}
