package main

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/launcher"
	"github.com/kubernaut/kubernaut/internal/timing"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/httpclient"
)

// run posts the load with the faults and the RSS sampler beside it, waits for every request to
// end, then checks and prints. It reports whether an invariant failed.
func (s *soak) run(ctx context.Context) (bool, error) {
	s.rss = newRSSSampler(s.sys, s.o.sampleInterval)
	sampleCtx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go s.rss.run(sampleCtx)

	started := make(chan struct{})
	var bg sync.WaitGroup
	if s.o.faults {
		bg.Go(func() {
			select {
			case <-started:
			case <-ctx.Done():
				return
			}
			s.injectFaults(ctx)
		})
	}
	s.loadWithStart(ctx, started)
	bg.Wait()
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	s.drain(ctx)
	s.actions.Wait()
	stopSampling()
	return s.report(ctx)
}

// loadWithStart runs load and closes started once posting begins.
func (s *soak) loadWithStart(ctx context.Context, started chan struct{}) {
	go func() {
		for s.postStartTime().IsZero() && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
		close(started)
	}()
	s.load(ctx)
}

func (s *soak) postStartTime() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.postStart
}

// drain waits until every posted target's request has ended (as the watch sees it), or
// --drain-timeout after the last alert.
func (s *soak) drain(ctx context.Context) {
	deadline := s.postEnd.Add(s.o.drainTimeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		open := s.openTargets()
		if len(open) == 0 {
			s.out.Printf("every request ended %s after the last alert", time.Since(s.postEnd).Round(100*time.Millisecond))
			return
		}
		time.Sleep(time.Second)
	}
	s.out.Printf("drain timeout: requests still open: %s", strings.Join(s.openTargets(), ", "))
}

func (s *soak) openTargets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var open []string
	for ns, t := range s.targets {
		if t.ended.IsZero() {
			open = append(open, fmt.Sprintf("%s (%s %s)", ns, t.rr, t.phase))
		}
	}
	sort.Strings(open)
	return open
}

// baselineGeneration is the target Deployment's generation when its alert was sent: the
// crash loop's bad rollout is its second template.
func baselineGeneration(kind string) int64 {
	if kind == "crashloop" {
		return 2
	}
	return 1
}

// raisedLimit is what the builtin investigator sets after an OOMKill (×1.5 of 128Mi).
var raisedLimit = resource.MustParse("192Mi")

// report lists the cluster and the audit trail, checks the invariants and prints the figures.
func (s *soak) report(ctx context.Context) (bool, error) {
	var failures []string
	fail := func(format string, args ...any) { failures = append(failures, fmt.Sprintf(format, args...)) }

	var rrList remediationv1.RemediationRequestList
	if err := s.c.List(ctx, &rrList, client.InNamespace(launcher.SystemNamespace)); err != nil {
		return false, err
	}
	var keList kev1.KubernetesExecutionList
	if err := s.c.List(ctx, &keList, client.InNamespace(launcher.SystemNamespace)); err != nil {
		return false, err
	}
	var nrList notificationv1.NotificationRequestList
	if err := s.c.List(ctx, &nrList, client.InNamespace(launcher.SystemNamespace)); err != nil {
		return false, err
	}
	rrsByNS := map[string][]remediationv1.RemediationRequest{}
	for _, rr := range rrList.Items {
		rrsByNS[rr.Spec.TargetResource.Namespace] = append(rrsByNS[rr.Spec.TargetResource.Namespace], rr)
	}
	kesByRR := map[string][]kev1.KubernetesExecution{}
	for _, ke := range keList.Items {
		kesByRR[ke.Spec.RemediationRequestRef.Name] = append(kesByRR[ke.Spec.RemediationRequestRef.Name], ke)
	}

	s.mu.Lock()
	targets := make([]*target, 0, len(s.targets))
	for _, t := range s.targets {
		targets = append(targets, t)
	}
	s.mu.Unlock()
	sort.Slice(targets, func(i, j int) bool { return targets[i].in.Namespace < targets[j].in.Namespace })

	// 1. Every alert accounted for.
	var created, duplicates, lost, retried, requests, occurrences, storedRetries int
	var atLeastOnce []string
	createdByFailed := 0 // requests whose creating attempt failed for the sender but was stored
	for _, t := range targets {
		created += t.created
		duplicates += t.duplicates
		lost += t.lost
		retried += t.retried
		rrs := rrsByNS[t.in.Namespace]
		if len(rrs) != 1 {
			names := []string{}
			for _, rr := range rrs {
				names = append(names, rr.Name)
			}
			fail("target %s (%s): %d requests %v, want 1", t.in.Namespace, t.kind, len(rrs), names)
		}
		requests += len(rrs)
		occ := 0
		for _, rr := range rrs {
			if rr.Status.Deduplication != nil {
				occ += int(rr.Status.Deduplication.OccurrenceCount)
			}
		}
		occurrences += occ
		// The first accepted alert made the request; every other accepted alert is a duplicate.
		// An attempt that failed (a timeout during the API server's pause) may have been stored
		// anyway and its retry counted once more: at-least-once delivery, at most one per retry.
		extra := occ - (t.created + t.duplicates - 1)
		if len(rrs) == 1 && (extra < 0 || extra > t.retried) {
			fail("target %s (%s): request %s counts %d duplicates, the gateway answered %d created and %d duplicate (%d accepted after a failed attempt)",
				t.in.Namespace, t.kind, rrs[0].Name, occ, t.created, t.duplicates, t.retried)
		}
		if len(rrs) == 1 && t.created == 0 && t.retried > 0 {
			createdByFailed++
		}
		if len(rrs) == 1 && extra > 0 {
			storedRetries += extra
			atLeastOnce = append(atLeastOnce, fmt.Sprintf("%s (%s), request %s: %d alerts accepted (%d after a failed attempt), occurrenceCount %d",
				t.in.Namespace, t.kind, rrs[0].Name, t.created+t.duplicates, t.retried, occ))
		}
		if t.lost > 0 {
			fail("target %s: %d alerts never accepted: %v", t.in.Namespace, t.lost, t.unexpectedAnswers)
		} else if len(t.unexpectedAnswers) > 0 && t.retried == 0 {
			fail("target %s: unexpected answers: %v", t.in.Namespace, t.unexpectedAnswers)
		}
	}
	for ns, rrs := range rrsByNS {
		if strings.HasPrefix(ns, "soak-") && s.targets[ns] == nil {
			fail("namespace %s has %d requests but no alert was sent about it", ns, len(rrs))
		}
	}
	if created+createdByFailed != requests {
		fail("the gateway answered created %d times (and %d requests were stored by an attempt that failed for the sender), the cluster holds %d requests for the targets",
			created, createdByFailed, requests)
	}

	// 2. Every request ended; outcomes by kind.
	type key struct{ kind, end string }
	outcomes := map[key]int{}
	var unexpected []string
	var alertToEnd = map[string][]time.Duration{}
	for _, t := range targets {
		for _, rr := range rrsByNS[t.in.Namespace] {
			end := string(rr.Status.OverallPhase)
			if rr.Status.Outcome != "" {
				end += "/" + string(rr.Status.Outcome)
			}
			outcomes[key{t.kind, end}]++
			if !rr.Status.OverallPhase.IsTerminal() {
				fail("request %s (%s, %s) did not end: %s", rr.Name, t.kind, t.in.Namespace, rr.Status.OverallPhase)
				continue
			}
			if rr.Status.OverallPhase != remediationv1.PhaseCompleted || rr.Status.Outcome != kindOutcome[t.kind] {
				unexpected = append(unexpected, fmt.Sprintf("%s %s (%s): %s %s — %s", rr.Name, t.in.Namespace, t.kind, rr.Status.OverallPhase, rr.Status.Outcome, rr.Status.FailureReason))
			}
			if !t.ended.IsZero() {
				alertToEnd[t.kind] = append(alertToEnd[t.kind], t.ended.Sub(t.firstAt))
			}
		}
	}

	// 3. Every audit record complete (retried while the orchestrator's outbox catches up).
	auditProblems := s.checkAudits(ctx, targets, rrsByNS, kesByRR)
	for _, p := range auditProblems {
		fail("audit: %s", p)
	}

	// 4. No operation applied twice: each target changed exactly as often as operations applied.
	var opsApplied, changes int
	opProblems := []string{}
	evidence := map[string]string{} // by request: what its target shows
	for _, t := range targets {
		applied := 0
		var ops []string
		for _, rr := range rrsByNS[t.in.Namespace] {
			kes := kesByRR[rr.Name]
			if len(kes) > 1 {
				opProblems = append(opProblems, fmt.Sprintf("request %s has %d executions", rr.Name, len(kes)))
			}
			for _, ke := range kes {
				for _, op := range ke.Status.OperationResults {
					if op.AppliedTime != nil || op.Phase == kev1.OperationSucceeded || op.Phase == kev1.OperationRolledBack {
						applied++
						ops = append(ops, ke.Name+"/"+op.Name+"="+string(op.Phase))
					}
					if op.Phase == kev1.OperationRolledBack {
						applied++ // the revert is a change too
					}
				}
			}
		}
		opsApplied += applied
		d := &appsv1.Deployment{}
		if err := s.c.Get(ctx, client.ObjectKey{Namespace: t.in.Namespace, Name: t.in.Deployment}, d); err != nil {
			opProblems = append(opProblems, fmt.Sprintf("%s: reading Deployment %s: %v", t.in.Namespace, t.in.Deployment, err))
			continue
		}
		changed := int(d.Generation - baselineGeneration(t.kind))
		if t.kind == "hpa-maxed-out" {
			hpa := &autoscalingv2.HorizontalPodAutoscaler{}
			if err := s.c.Get(ctx, client.ObjectKey{Namespace: t.in.Namespace, Name: t.in.HPA}, hpa); err == nil {
				changed += int(hpa.Generation - 1)
			}
		}
		changes += changed
		for _, rr := range rrsByNS[t.in.Namespace] {
			evidence[rr.Name] = fmt.Sprintf("request %s ended %s/%s; Deployment %s/%s at generation %d: changed %d time(s), %d operation(s) applied %v",
				rr.Name, rr.Status.OverallPhase, rr.Status.Outcome, t.in.Namespace, t.in.Deployment, d.Generation, changed, applied, ops)
		}
		if changed != applied {
			opProblems = append(opProblems, fmt.Sprintf("%s (%s): target changed %d times, operations applied %d %v", t.in.Namespace, t.kind, changed, applied, ops))
		}
		if t.kind == "oom" && applied == 1 {
			for _, c := range d.Spec.Template.Spec.Containers {
				if lim := c.Resources.Limits[corev1.ResourceMemory]; c.Name == t.in.Container && !lim.Equal(raisedLimit) {
					opProblems = append(opProblems, fmt.Sprintf("%s: memory limit %s after one increase, want %s", t.in.Namespace, lim.String(), raisedLimit.String()))
				}
			}
		}
	}
	for _, p := range opProblems {
		fail("operations: %s", p)
	}

	// 5. Notifications: every one finished delivering (notification was killed meanwhile).
	nrPhases := map[string]int{}
	for _, nr := range nrList.Items {
		nrPhases[string(nr.Status.Phase)]++
		if !nr.Status.Phase.IsTerminal() {
			fail("notification %s still %q", nr.Name, nr.Status.Phase)
		}
	}

	// 6. The rate held.
	elapsed := s.postEnd.Sub(s.postStart)
	requested := 1 / s.o.interval.Seconds()
	achieved := float64(s.sent) / elapsed.Seconds()
	if s.skipped > 0 {
		fail("rate: %d of %d ticks had no alert to send (nothing staged, nothing firing)", s.skipped, s.planned)
	}
	if achieved < 0.95*requested {
		fail("rate: %.3f alerts/s achieved, %.3f requested", achieved, requested)
	}

	// 7. RSS flat after warm-up.
	rss := s.rss.figures(s.postStart.Add(s.o.warmup), s.o.warmup, s.o.rssGrowthLimit, s.o.rssGrowthFloorMiB)
	for _, f := range rss {
		if !f.flat {
			fail("RSS of %s grew from %s to %s MiB (+%.0f%%) after warm-up", f.service, mib(f.baseline.kib), mib(f.last.kib), 100*f.growthShare)
		}
	}

	// Print.
	p := func(format string, args ...any) { fmt.Printf(format+"\n", args...) }
	p("")
	p("================ kubernaut-soak figures ================")
	p("run: %s of alerts (one every %s requested, %.0f%% re-sends), %d incidents staged, faults %v, work dir %s",
		elapsed.Round(100*time.Millisecond), s.o.interval, s.o.duplicates*100, s.staged.Load(), s.o.faults, s.sys.WorkDir)
	p("")
	p("rate:       requested %.3f alerts/s, achieved %.3f (%d sent over %d ticks, %d ticks with nothing to send, latest tick %s late)",
		requested, achieved, s.sent, s.planned, s.skipped, s.maxLate.Round(time.Millisecond))
	p("            accepted by the gateway: p50 %s, p95 %s, max %s after the first attempt (retries included); %d attempts, %d failed",
		timing.Percentile(s.acceptLatency, 0.5).Round(time.Millisecond), timing.Percentile(s.acceptLatency, 0.95).Round(time.Millisecond),
		timing.Percentile(s.acceptLatency, 1).Round(time.Millisecond), s.attempts.Load(), s.failedAttempts.Load())
	p("alerts:     %d in (%d new incidents, %d re-sends of firing alerts); %d never accepted", s.sent, s.newAlerts, s.dupAlerts, lost)
	p("accounting: alerts in %d = requests %d + duplicates %d", s.sent, requests, s.sent-requests)
	p("            gateway answers: %d created, %d duplicate; cluster: %d requests, Σ occurrenceCount %d (= duplicates + %d counted twice)",
		created, duplicates, requests, occurrences, occurrences-(s.sent-requests))
	p("            %d alerts accepted only after a failed attempt; %d of those failed attempts were stored anyway (%d of them created the request)",
		retried, storedRetries, createdByFailed)
	for _, a := range atLeastOnce {
		p("            stored by a failed attempt and counted again by its retry: %s", a)
	}
	ended := 0
	for _, t := range targets {
		if !t.ended.IsZero() {
			ended++
		}
	}
	p("requests:   %d, %d ended; a request per target: %v", requests, ended, requests == len(targets))
	var keys []key
	for k := range outcomes {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].kind != keys[j].kind {
			return keys[i].kind < keys[j].kind
		}
		return keys[i].end < keys[j].end
	})
	for _, k := range keys {
		ds := alertToEnd[k.kind]
		p("            %-17s %-36s %4d   (alert → end p50 %s, p95 %s for the kind)", k.kind, k.end, outcomes[k],
			timing.Percentile(ds, 0.5).Round(100*time.Millisecond), timing.Percentile(ds, 0.95).Round(100*time.Millisecond))
	}
	approved, resolved := 0, 0
	for _, t := range targets {
		if t.approved {
			approved++
		}
		if t.resolved {
			resolved++
		}
	}
	p("            %d resolved notifications sent (once a change was being verified), %d approvals by %s", resolved, approved, approverUser)
	if len(unexpected) > 0 {
		p("            not the kind's usual outcome (%d):", len(unexpected))
		for _, u := range unexpected {
			p("              %s", u)
		}
	}
	p("audit:      %d records checked against their requests: %d problems", requests, len(auditProblems))
	p("operations: %d applied, %d changes of their targets (generation), %d problems (an operation applied twice shows as more changes than operations)", opsApplied, changes, len(opProblems))
	var nrKeys []string
	for k, v := range nrPhases {
		nrKeys = append(nrKeys, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(nrKeys)
	p("notifications: %d (%s)", len(nrList.Items), strings.Join(nrKeys, ", "))
	p("faults:")
	s.mu.Lock()
	for _, f := range s.faultLog {
		errText := ""
		if f.err != nil {
			errText = fmt.Sprintf(" ERROR %v", f.err)
		}
		p("  at %6.1fs  %-38s %s%s", f.at.Seconds(), f.name, f.detail, errText)
		if f.killedRR != "" {
			p("             afterwards: %s", evidence[f.killedRR])
		}
	}
	s.mu.Unlock()
	p("RSS (MiB; first sample after warm-up %s → last; peak):", s.o.warmup)
	for _, f := range rss {
		note := ""
		if f.restartedAfterWarmup {
			note = " (restarted by a fault: baseline a warm-up after the restart)"
		}
		if f.baselineNote != "" {
			note = " (" + f.baselineNote + ")"
		}
		p("  %-13s %7s → %7s  peak %7s  %+6.1f MiB (%+4.0f%%) over %d samples%s", f.service, mib(f.baseline.kib), mib(f.last.kib), mib(f.peak.kib), f.growthMiB, 100*f.growthShare, f.samples, note)
	}
	if len(s.stageErrors) > 0 {
		p("staging errors (incidents not posted, not counted): %d, first: %s", len(s.stageErrors), s.stageErrors[0])
	}
	p("")
	if len(failures) == 0 {
		p("INVARIANTS: all held")
		return false, nil
	}
	p("INVARIANTS FAILED (%d):", len(failures))
	for _, f := range failures {
		p("  - %s", f)
	}
	return true, nil
}

// checkAudits reads each request's record from datastorage until it matches the request (or 2
// minutes pass) and returns what still differs.
func (s *soak) checkAudits(ctx context.Context, targets []*target, rrsByNS map[string][]remediationv1.RemediationRequest, kesByRR map[string][]kev1.KubernetesExecution) []string {
	hc := httpclient.New(s.sys.Services["datastorage"].URL(), s.sys.ReaderTokenFile)
	pending := map[string]remediationv1.RemediationRequest{}
	approvedBy := map[string]string{}
	s.mu.Lock()
	for _, t := range targets {
		for _, rr := range rrsByNS[t.in.Namespace] {
			pending[rr.Name] = rr
			if t.approved {
				approvedBy[rr.Name] = t.approvalUser
			}
		}
	}
	s.mu.Unlock()
	problems := map[string]string{}
	deadline := time.Now().Add(2 * time.Minute)
	for len(pending) > 0 && ctx.Err() == nil {
		for name := range pending {
			rr := &remediationv1.RemediationRequest{}
			if err := s.c.Get(ctx, client.ObjectKey{Namespace: launcher.SystemNamespace, Name: name}, rr); err != nil {
				problems[name] = fmt.Sprintf("%s: reading the request: %v", name, err)
				continue
			}
			var a auditapi.RemediationAudit
			err := hc.Do(ctx, http.MethodGet, auditapi.RemediationPath+"/"+name, nil, &a)
			p := auditMismatch(rr, a, err, kesByRR[name])
			if user := approvedBy[name]; err == nil && user != "" && (a.Approval == nil || a.Approval.DecidedBy != user || a.Approval.Decision != "Approved") {
				p = strings.TrimPrefix(p+fmt.Sprintf("; approved by %s, recorded %+v", user, a.Approval), "; ")
			}
			if p != "" {
				problems[name] = name + ": " + p
				continue
			}
			delete(problems, name)
			delete(pending, name)
		}
		if len(pending) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Second)
	}
	var out []string
	for _, p := range problems {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// auditMismatch says how datastorage's record differs from the ended request, or "".
func auditMismatch(rr *remediationv1.RemediationRequest, a auditapi.RemediationAudit, err error, kes []kev1.KubernetesExecution) string {
	if err != nil {
		return fmt.Sprintf("reading the record: %v", err)
	}
	st := rr.Status
	var diffs []string
	if st.Audit.Pending || len(st.Audit.PendingPhases) > 0 {
		diffs = append(diffs, fmt.Sprintf("outbox not empty (%d pending, last error %q)", len(st.Audit.PendingPhases), st.Audit.LastError))
	}
	if st.Audit.LastAcknowledgedPhase != st.OverallPhase {
		diffs = append(diffs, fmt.Sprintf("last acknowledged phase %s, request %s", st.Audit.LastAcknowledgedPhase, st.OverallPhase))
	}
	if a.OverallPhase != string(st.OverallPhase) || a.Outcome != string(st.Outcome) {
		diffs = append(diffs, fmt.Sprintf("record %s/%s, request %s/%s", a.OverallPhase, a.Outcome, st.OverallPhase, st.Outcome))
	}
	if a.CompletionTime == nil {
		diffs = append(diffs, "no completion time")
	}
	have := map[string]bool{}
	for _, c := range a.ServiceCRDStatuses {
		have[c.ServiceType] = true
	}
	for kind, ref := range map[string]bool{
		"RemediationProcessing": st.RemediationProcessingRef != nil, "AIAnalysis": st.AIAnalysisRef != nil,
		"WorkflowExecution": st.WorkflowExecutionRef != nil, "KubernetesExecution": st.KubernetesExecutionRef != nil,
	} {
		if ref && !have[kind] {
			diffs = append(diffs, "no "+kind+" status")
		}
	}
	var want []string
	for _, ke := range kes {
		for _, op := range ke.Status.OperationResults {
			want = append(want, op.Name+"="+string(op.Phase))
		}
	}
	var got []string
	for _, op := range a.Operations {
		got = append(got, op.Name+"="+op.Phase)
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(want, ",") != strings.Join(got, ",") {
		diffs = append(diffs, fmt.Sprintf("operations recorded %v, executed %v", got, want))
	}
	return strings.Join(diffs, "; ")
}
