package main

import (
	"context"
	"fmt"
	"math/rand"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/incident"
	"github.com/kubernaut/kubernaut/internal/launcher"
	"github.com/kubernaut/kubernaut/internal/timing"
	"github.com/kubernaut/kubernaut/pkg/gateway"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

// Kinds internal/incident stages, with the outcome the shipped configuration gives each in an
// unattended (staging) namespace.
var kindOutcome = map[string]remediationv1.Outcome{
	"oom":              remediationv1.OutcomeRemediated,           // increase_resources
	"crashloop":        remediationv1.OutcomeRemediated,           // rollback_deployment
	"config-crashloop": remediationv1.OutcomeManualReviewRequired, // no rollout to undo
	"hpa-maxed-out":    remediationv1.OutcomeManualReviewRequired, // no metrics API on the local cluster
	"healthy":          remediationv1.OutcomeManualReviewRequired, // a latency alert on healthy pods
}

// parseKinds reads "kind=weight,..." into a list where each kind appears weight times.
func parseKinds(s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			w = "1"
		}
		if _, known := kindOutcome[name]; !known {
			return nil, fmt.Errorf("unknown kind %q (known: oom, crashloop, config-crashloop, hpa-maxed-out, healthy)", name)
		}
		n, err := strconv.Atoi(w)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("weight of %s: %q", name, w)
		}
		for range n {
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no kind with a weight")
	}
	return out, nil
}

// target is one staged incident (a namespace of its own) and what happened to its alert.
type target struct {
	in      *incident.Incident
	kind    string
	staged  time.Time
	firstAt time.Time // first firing alert sent
	// rr is the request the gateway named; phase and outcome as last seen.
	rr      string
	phase   remediationv1.Phase
	outcome remediationv1.Outcome
	ended   time.Time
	// Answers of the gateway to this target's firing alerts.
	created, duplicates, lost int
	// retried counts firing alerts of this target accepted only after a failed attempt (the
	// failed attempt may have been stored anyway: at-least-once delivery).
	retried                 int
	resolving, resolved     bool
	approving, approved     bool
	resolveErr, approveErr  string
	unexpectedAnswers       []string
	approvalUser            string
	awaitedApprovalDuringDS bool
}

// soak is one run.
type soak struct {
	sys *launcher.System
	out *timing.Clock
	o   options
	c   client.Client

	mu          sync.Mutex
	targets     map[string]*target // by namespace
	firing      []*target          // alerts still firing, which Alertmanager re-sends
	kes         map[string]kev1.KubernetesExecution
	ready       chan *target
	rng         *rand.Rand
	kinds       []string
	staged      atomic.Int64
	stageErrors []string

	// Rate figures.
	planned, sent, newAlerts, dupAlerts, skipped int
	maxLate                                      time.Duration
	attempts, failedAttempts                     atomic.Int64
	postStart, postEnd                           time.Time
	posts                                        sync.WaitGroup
	actions                                      sync.WaitGroup
	acceptLatency                                []time.Duration

	// onKE, when set, sees every KubernetesExecution event (the executor fault).
	onKE atomic.Pointer[func(*kev1.KubernetesExecution)]

	faultLog           []faultRecord
	rss                *rssSampler
	approverKubeconfig string
}

func newSoak(ctx context.Context, sys *launcher.System, out *timing.Clock, o options) (*soak, error) {
	kinds, err := parseKinds(o.kinds)
	if err != nil {
		return nil, err
	}
	s := &soak{sys: sys, out: out, o: o, c: sys.Cluster.Client, targets: map[string]*target{},
		kes: map[string]kev1.KubernetesExecution{}, ready: make(chan *target, 4*o.stageWorkers),
		rng: rand.New(rand.NewSource(o.seed)), kinds: kinds}
	if s.approverKubeconfig, err = approver(ctx, sys, approverUser); err != nil {
		return nil, err
	}
	if err := s.watch(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// watch follows RemediationRequests (to send the resolved notification once a change is being
// verified, to approve what awaits a person, and to see requests end) and KubernetesExecutions
// (for the executor fault and the operations' evidence).
func (s *soak) watch(ctx context.Context) error {
	ch, err := cache.New(s.sys.Cluster.Config, cache.Options{Scheme: app.NewScheme(),
		DefaultNamespaces: map[string]cache.Config{launcher.SystemNamespace: {}}})
	if err != nil {
		return err
	}
	rrInf, err := ch.GetInformer(ctx, &remediationv1.RemediationRequest{})
	if err != nil {
		return err
	}
	if _, err := rrInf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.onRR(ctx, obj) },
		UpdateFunc: func(_, obj any) { s.onRR(ctx, obj) },
	}); err != nil {
		return err
	}
	keInf, err := ch.GetInformer(ctx, &kev1.KubernetesExecution{})
	if err != nil {
		return err
	}
	onKE := func(obj any) {
		ke, ok := obj.(*kev1.KubernetesExecution)
		if !ok {
			return
		}
		s.mu.Lock()
		s.kes[ke.Name] = *ke.DeepCopy()
		s.mu.Unlock()
		if f := s.onKE.Load(); f != nil {
			(*f)(ke)
		}
	}
	if _, err := keInf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: onKE, UpdateFunc: func(_, obj any) { onKE(obj) },
	}); err != nil {
		return err
	}
	go func() { _ = ch.Start(ctx) }()
	if !ch.WaitForCacheSync(ctx) {
		return fmt.Errorf("the soak's watches did not sync")
	}
	return nil
}

func (s *soak) onRR(ctx context.Context, obj any) {
	rr, ok := obj.(*remediationv1.RemediationRequest)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.targets[rr.Spec.TargetResource.Namespace]
	if t == nil {
		return
	}
	if t.rr == "" {
		t.rr = rr.Name
	}
	if t.rr != rr.Name {
		return // a second request for one target: the final check reports it
	}
	t.phase, t.outcome = rr.Status.OverallPhase, rr.Status.Outcome
	switch {
	case rr.Status.OverallPhase.IsTerminal():
		if t.ended.IsZero() {
			t.ended = time.Now()
		}
		if rr.Status.Outcome == remediationv1.OutcomeRemediated || rr.Status.SignalResolvedAt != nil {
			s.stopFiring(t)
		}
	case rr.Status.OverallPhase == remediationv1.PhaseVerifying && !t.resolving:
		// The fix shows: Alertmanager sends the resolved notification and re-sends it no more.
		t.resolving = true
		s.stopFiring(t)
		s.actions.Go(func() { s.resolve(ctx, t) })
	case rr.Status.OverallPhase == remediationv1.PhaseAwaitingApproval && !t.approving:
		t.approving = true
		s.actions.Go(func() { s.approve(ctx, t, rr.Name) })
	}
}

// stopFiring removes t from the alerts Alertmanager re-sends (s.mu held).
func (s *soak) stopFiring(t *target) {
	for i, f := range s.firing {
		if f == t {
			s.firing = append(s.firing[:i], s.firing[i+1:]...)
			return
		}
	}
}

// stage stages incidents of the kinds' mix, each in a namespace of its own, until ctx ends.
func (s *soak) stage(ctx context.Context, worker int, next func() (int, string)) {
	for ctx.Err() == nil {
		n, kind := next()
		ns := fmt.Sprintf("soak-%03d-%s", n, kind)
		staging := incident.NamespaceOptions{Environment: "staging"}
		var in *incident.Incident
		var err error
		switch kind {
		case "oom":
			in, err = incident.OOM(ctx, s.sys.Cluster, ns, staging)
		case "crashloop":
			in, err = incident.CrashLoop(ctx, s.sys.Cluster, ns, staging)
		case "config-crashloop":
			in, err = incident.ConfigCrashLoop(ctx, s.sys.Cluster, ns, staging)
		case "hpa-maxed-out":
			in, err = incident.HPAMaxedOut(ctx, s.sys.Cluster, ns, staging)
		case "healthy":
			in, err = incident.Healthy(ctx, s.sys.Cluster, ns, "HighRequestLatency")
		}
		if err != nil {
			if ctx.Err() == nil {
				s.mu.Lock()
				s.stageErrors = append(s.stageErrors, fmt.Sprintf("%s: %v", ns, err))
				s.mu.Unlock()
			}
			continue
		}
		s.staged.Add(1)
		t := &target{in: in, kind: kind, staged: time.Now()}
		select {
		case s.ready <- t:
		case <-ctx.Done():
			return
		}
	}
}

// load stages incidents ahead and posts one alert every interval for the duration: a new
// incident's first alert, or (with probability --duplicates, or when no new incident is staged
// yet) a re-send of an alert still firing.
func (s *soak) load(ctx context.Context) {
	stageCtx, stopStaging := context.WithCancel(ctx)
	defer stopStaging()
	var seq atomic.Int64
	var kindMu sync.Mutex
	next := func() (int, string) {
		n := int(seq.Add(1))
		kindMu.Lock()
		defer kindMu.Unlock()
		return n, s.kinds[s.rng.Intn(len(s.kinds))]
	}
	var stagers sync.WaitGroup
	for w := range s.o.stageWorkers {
		stagers.Go(func() { s.stage(stageCtx, w, next) })
	}
	// Start with a few incidents staged, so that the first ticks have something new to send.
	prefill := time.Now()
	for len(s.ready) < min(s.o.stageWorkers, cap(s.ready)) && time.Since(prefill) < 2*time.Minute && ctx.Err() == nil {
		time.Sleep(200 * time.Millisecond)
	}
	s.out.Printf("%d incidents staged in %s; posting alerts for %s", len(s.ready), time.Since(prefill).Round(100*time.Millisecond), s.o.duration)

	pick := rand.New(rand.NewSource(s.o.seed + 1))
	s.mu.Lock()
	s.postStart = time.Now()
	s.mu.Unlock()
	end := s.postStart.Add(s.o.duration)
	postCtx, cancelPosts := context.WithDeadline(ctx, end.Add(s.o.drainTimeout))
	progress := time.NewTicker(30 * time.Second)
	defer progress.Stop()
	for i := 0; ; i++ {
		due := s.postStart.Add(time.Duration(i) * s.o.interval)
		if !due.Before(end) {
			break
		}
		select {
		case <-ctx.Done():
			cancelPosts()
			return
		case <-time.After(time.Until(due)):
		case <-progress.C:
			s.printProgress()
			i-- // this tick is still due
			continue
		}
		s.planned++
		if late := time.Since(due); late > s.maxLate {
			s.maxLate = late
		}
		var t *target
		resend := false
		s.mu.Lock()
		s.expireFiring()
		wantDup := pick.Float64() < s.o.duplicates && len(s.firing) > 0
		s.mu.Unlock()
		if !wantDup {
			select {
			case t = <-s.ready:
			default:
			}
		}
		s.mu.Lock()
		if t == nil && len(s.firing) > 0 {
			t, resend = s.firing[pick.Intn(len(s.firing))], true
		}
		if t == nil {
			s.skipped++
			s.mu.Unlock()
			continue
		}
		s.sent++
		if resend {
			s.dupAlerts++
		} else {
			s.newAlerts++
			t.firstAt = time.Now()
			s.targets[t.in.Namespace] = t
			s.firing = append(s.firing, t)
		}
		s.mu.Unlock()
		s.posts.Go(func() { s.postFiring(postCtx, t, !resend) })
	}
	s.postEnd = time.Now()
	stopStaging()
	stagers.Wait()
	s.out.Printf("posting ended: %d alerts sent in %s; waiting for the last answers", s.sent, s.postEnd.Sub(s.postStart).Round(100*time.Millisecond))
	s.posts.Wait()
	cancelPosts()
}

// expireFiring stops re-sending alerts first sent more than 4 minutes ago: their requests may
// have ended, and a re-send after the gateway's 5-minute cooldown would rightly open a new
// request, which this run does not count on (s.mu held).
func (s *soak) expireFiring() {
	kept := s.firing[:0]
	for _, t := range s.firing {
		if time.Since(t.firstAt) < 4*time.Minute {
			kept = append(kept, t)
		}
	}
	s.firing = kept
}

func (s *soak) printProgress() {
	s.mu.Lock()
	defer s.mu.Unlock()
	ended := 0
	for _, t := range s.targets {
		if !t.ended.IsZero() {
			ended++
		}
	}
	s.out.Printf("progress: %d alerts sent (%d new, %d re-sent), %d requests ended of %d, %d staged ahead, %d failed attempts",
		s.sent, s.newAlerts, s.dupAlerts, ended, len(s.targets), len(s.ready), s.failedAttempts.Load())
}

// postFiring sends one firing alert of t and retries it as Alertmanager retries a failed webhook
// (back-off up to 5 s) until the gateway accepts it or ctx ends.
func (s *soak) postFiring(ctx context.Context, t *target, first bool) {
	msg := t.in.Webhook(false)
	failed := false
	backoff := 500 * time.Millisecond
	start := time.Now()
	for {
		s.attempts.Add(1)
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		code, resp, err := incident.Post(actx, s.sys, msg)
		cancel()
		if err == nil && (code == http.StatusCreated || code == http.StatusAccepted) && len(resp.Results) == 1 {
			res := resp.Results[0]
			s.mu.Lock()
			s.acceptLatency = append(s.acceptLatency, time.Since(start))
			if failed {
				t.retried++
			}
			switch res.Status {
			case gateway.StatusCreated:
				t.created++
				if t.rr == "" {
					t.rr = res.RemediationRequest
				}
			case gateway.StatusDuplicate:
				t.duplicates++
			}
			if first != (res.Status == gateway.StatusCreated) || (t.rr != "" && res.RemediationRequest != t.rr) {
				t.unexpectedAnswers = append(t.unexpectedAnswers, fmt.Sprintf("%s alert answered %s %s (request %s)",
					map[bool]string{true: "first", false: "re-sent"}[first], res.Status, res.Reason, res.RemediationRequest))
			}
			s.mu.Unlock()
			return
		}
		failed = true
		s.failedAttempts.Add(1)
		select {
		case <-ctx.Done():
			s.mu.Lock()
			t.lost++
			t.unexpectedAnswers = append(t.unexpectedAnswers, fmt.Sprintf("never accepted: last answer %d %+v %v", code, resp, err))
			s.mu.Unlock()
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// resolve sends t's resolved notification (until the gateway takes it).
func (s *soak) resolve(ctx context.Context, t *target) {
	msg := t.in.Webhook(true)
	for attempt := 0; ctx.Err() == nil; attempt++ {
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		code, resp, err := incident.Post(actx, s.sys, msg)
		cancel()
		if err == nil && code == http.StatusOK {
			s.mu.Lock()
			t.resolved = true
			s.mu.Unlock()
			return
		}
		s.mu.Lock()
		t.resolveErr = fmt.Sprintf("%d %+v %v", code, resp, err)
		s.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
