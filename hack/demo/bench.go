package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/incident"
	"github.com/kubernaut/kubernaut/internal/launcher"
	"github.com/kubernaut/kubernaut/internal/timing"
)

// stages are the intervals reported per incident, between the moments the recorder saw.
var stages = []struct{ name, from, to string }{
	{"alert → Processing", "", string(remediationv1.PhaseProcessing)},
	{"Processing → Analyzing", string(remediationv1.PhaseProcessing), string(remediationv1.PhaseAnalyzing)},
	{"Analyzing → Planning", string(remediationv1.PhaseAnalyzing), string(remediationv1.PhasePlanning)},
	{"Planning → Executing", string(remediationv1.PhasePlanning), string(remediationv1.PhaseExecuting)},
	{"Executing → change applied", string(remediationv1.PhaseExecuting), incident.ExecutionApplied},
	{"applied → rolled out", incident.ExecutionApplied, incident.ExecutionCompleted},
}

// sample is one incident's measurements.
type sample struct {
	total        time.Duration // alert → executor Completed (the change rolled out and checked)
	applied      time.Duration // alert → the change written to the target
	stages       map[string]time.Duration
	posted, done time.Time
}

// bench plays OOM incidents (builtin investigator, no approval) and prints the time from the
// gateway's 201 to the executor's Completed, in sequence and at once.
func bench(ctx context.Context, out *timing.Clock, sys *launcher.System, o options) error {
	// The recorder's watches end with the benchmark, before the system stops (the API server
	// waits for open watches when it stops).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rec, err := incident.Record(ctx, sys.Cluster.Config, launcher.SystemNamespace)
	if err != nil {
		return err
	}
	run := func(label string, n int, concurrent bool) error {
		out.Printf("benchmark %s: staging %d OOM incidents", label, n)
		ins := make([]*incident.Incident, n)
		for i := range n {
			// Staging namespaces: the benchmark measures the unattended path (production waits for a person).
			if ins[i], err = incident.OOM(ctx, sys.Cluster, fmt.Sprintf("bench-%s-%d", label, i), incident.NamespaceOptions{Environment: "staging"}); err != nil {
				return err
			}
		}
		before, err := scrapeWrites(ctx, sys.Cluster.Config)
		if err != nil {
			return err
		}
		servicesBefore, err := scrapeServices(ctx, sys)
		if err != nil {
			return err
		}
		out.Printf("benchmark %s: measuring the API server's idle CPU for 3s (the cluster's own background: heartbeats, leases, controllers)", label)
		idle, err := idleCPU(ctx, 3*time.Second)
		if err != nil {
			return err
		}
		api := startAPIMeter(idle)
		out.Printf("benchmark %s: posting the alerts", label)
		samples := make([]sample, n)
		errs := make([]error, n)
		one := func(i int) {
			samples[i], errs[i] = measure(ctx, sys, rec, ins[i])
		}
		if concurrent {
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { one(i) })
			}
			wg.Wait()
		} else {
			for i := range n {
				if one(i); errs[i] != nil {
					break
				}
			}
		}
		for _, err := range errs {
			if err != nil {
				return fmt.Errorf("benchmark %s: %w", label, err)
			}
		}
		report(label, samples)
		servicesAfter, err := scrapeServices(ctx, sys)
		if err != nil {
			return err
		}
		fmt.Printf("%s, where the time went (each service's controllers and CPU during the round):\n%s", label, formatProfile(servicesBefore, servicesAfter))
		if used, err := api.used(); err == nil {
			fmt.Printf("  %-14s %-28s %10s %12s %12s %8.2f  (%.0f ms per remediation with the rollouts, above the idle %.0f ms/s)\n", "kube-apiserver", "-", "-", "-", "-", used.Seconds(), float64(used.Milliseconds())/float64(n), idle*1000)
		}
		fmt.Printf("%s, each service's requests to the API server per remediation (watches not counted):\n%s", label, formatRequests(servicesBefore, servicesAfter, n))
		fmt.Println()
		after, err := scrapeWrites(ctx, sys.Cluster.Config)
		if err != nil {
			return err
		}
		if err := throughput(ctx, out, sys, label, samples, before, after); err != nil {
			return err
		}
		if concurrent {
			if err := rolloutCost(ctx, out, sys, label, ins, idle); err != nil {
				return err
			}
		}
		return quiesce(ctx, out, sys, label)
	}
	if o.benchSequential > 0 {
		if err := run("sequential", o.benchSequential, false); err != nil {
			return err
		}
	}
	if o.benchConcurrent > 0 {
		if err := run("concurrent", o.benchConcurrent, true); err != nil {
			return err
		}
	}
	if o.benchConcurrentLarge > 0 {
		if err := run("concurrent-large", o.benchConcurrentLarge, true); err != nil {
			return err
		}
	}
	return nil
}

func measure(ctx context.Context, sys *launcher.System, rec *incident.Recorder, in *incident.Incident) (sample, error) {
	code, resp, err := incident.Post(ctx, sys, in.Webhook(false))
	created := time.Now()
	if err != nil {
		return sample{}, err
	}
	if code != http.StatusCreated || len(resp.Results) != 1 {
		return sample{}, fmt.Errorf("gateway answered %d %+v", code, resp)
	}
	rr := resp.Results[0].RemediationRequest
	done, ok := rec.Wait(rr, incident.ExecutionCompleted, 2*time.Minute)
	if !ok {
		return sample{}, fmt.Errorf("%s: no Completed KubernetesExecution within 2m (phases seen: %v)", rr, rec.Times(rr))
	}
	times := rec.Times(rr)
	s := sample{total: done.Sub(created), stages: map[string]time.Duration{}, posted: created, done: done}
	if t, ok := times[incident.ExecutionApplied]; ok {
		s.applied = t.Sub(created)
	}
	for _, st := range stages {
		from := created
		if st.from != "" {
			from = times[st.from]
		}
		to, ok := times[st.to]
		if ok && !from.IsZero() {
			s.stages[st.name] = to.Sub(from)
		}
	}
	return s, nil
}

// throughput prints the remediations executed per second beside what the API server's write
// ceiling allows at Kubernaut's measured writes per remediation.
func throughput(ctx context.Context, out *timing.Clock, sys *launcher.System, label string, samples []sample, before, after writeCounts) error {
	n := len(samples)
	first, last := samples[0].posted, samples[0].done
	for _, s := range samples {
		if s.posted.Before(first) {
			first = s.posted
		}
		if s.done.After(last) {
			last = s.done
		}
	}
	span := last.Sub(first)
	rate := float64(n) / span.Seconds()
	writes, by := kubernautWrites(before, after)
	perRemediation := writes / float64(n)
	out.Printf("benchmark %s: measuring the API server's write ceiling (16 clients creating ConfigMaps for 5s)", label)
	ceiling, err := writeCeiling(ctx, sys.Cluster.Config, 16, 5*time.Second)
	if err != nil {
		return fmt.Errorf("measuring the write ceiling: %w", err)
	}
	bound := ceiling / perRemediation
	fmt.Printf("%s throughput: %d executed in %s = %.2f remediations/s\n", label, n, span.Round(time.Millisecond), rate)
	fmt.Printf("  Kubernaut's API writes: %.0f = %.1f per remediation\n%s", writes, perRemediation, formatWrites(by, n))
	fmt.Printf("  API server write ceiling %.0f writes/s → at most %.2f remediations/s; measured %.2f = %.2f× of it\n\n", ceiling, bound, rate, rate/bound)
	return nil
}

func report(label string, samples []sample) {
	var totals, applied []time.Duration
	per := map[string][]time.Duration{}
	for _, s := range samples {
		totals = append(totals, s.total)
		applied = append(applied, s.applied)
		for k, v := range s.stages {
			per[k] = append(per[k], v)
		}
	}
	r := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	fmt.Printf("\n%s, %d OOM incidents: alert 201 → change applied     p50 %s  p95 %s  max %s\n", label, len(samples), r(timing.Percentile(applied, 0.5)), r(timing.Percentile(applied, 0.95)), r(slices.Max(applied)))
	fmt.Printf("%s, %d OOM incidents: alert 201 → executor Completed  p50 %s  p95 %s  max %s (the rollout checked)\n", label, len(samples), r(timing.Percentile(totals, 0.5)), r(timing.Percentile(totals, 0.95)), r(slices.Max(totals)))
	fmt.Printf("  %-26s %10s %10s\n", "phase", "p50", "p95")
	for _, st := range stages {
		ds := per[st.name]
		fmt.Printf("  %-26s %10s %10s\n", st.name, r(timing.Percentile(ds, 0.5)), r(timing.Percentile(ds, 0.95)))
	}
	fmt.Println()
}

// apiMeter measures the CPU the API server (a child of this process) uses from its start, less
// its idle rate over the same time: what the benchmark's own work cost it.
type apiMeter struct {
	start time.Time
	cpu   time.Duration
	idle  float64 // CPU seconds per second while nothing runs
	err   error
}

func startAPIMeter(idle float64) apiMeter {
	cpu, err := timing.ChildCPU("kube-apiserver")
	return apiMeter{start: time.Now(), cpu: cpu, idle: idle, err: err}
}

// used is the CPU used since the start above the idle rate; an error when there is no API
// server of ours to measure.
func (m apiMeter) used() (time.Duration, error) {
	if m.err != nil {
		return 0, m.err
	}
	cpu, err := timing.ChildCPU("kube-apiserver")
	if err != nil {
		return 0, err
	}
	return cpu - m.cpu - time.Duration(m.idle*float64(time.Since(m.start))), nil
}

// idleCPU is the API server's CPU per second of wall time while the benchmark does nothing (0
// when there is no API server of ours to measure).
func idleCPU(ctx context.Context, window time.Duration) (float64, error) {
	m := startAPIMeter(0)
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(window):
	}
	used, err := m.used()
	if err != nil {
		return 0, nil
	}
	return used.Seconds() / window.Seconds(), nil
}

// quiesce waits until every request has ended (the round's verification windows), so that the
// next round starts on a quiet cluster and measures itself, not the last round's tail.
func quiesce(ctx context.Context, out *timing.Clock, sys *launcher.System, label string) error {
	out.Printf("benchmark %s: waiting for the round's requests to end (verification) before the next round", label)
	var left int
	err := wait.PollUntilContextTimeout(ctx, time.Second, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		var list remediationv1.RemediationRequestList
		if err := sys.Cluster.Client.List(ctx, &list, client.InNamespace(launcher.SystemNamespace)); err != nil {
			return false, err
		}
		left = 0
		for _, rr := range list.Items {
			if !rr.Status.OverallPhase.IsTerminal() {
				left++
			}
		}
		return left == 0, nil
	})
	if err != nil {
		return fmt.Errorf("benchmark %s: %d requests had not ended: %w", label, left, err)
	}
	return nil
}
