package orchestrator

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
)

// admission counts requests admitted by this process that the cache may not show as active yet,
// so that parallel reconciles never exceed the caps.
type admission struct {
	mu       sync.Mutex
	inflight map[types.NamespacedName]string // → target namespace
	// finished are requests this process moved to a terminal phase that the cache may still show as active.
	finished map[types.NamespacedName]struct{}
}

func (a *admission) release(key types.NamespacedName) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.inflight, key)
}

// forget drops a request that no longer exists (or is being deleted) and says whether it held
// a slot this process had admitted.
func (a *admission) forget(key types.NamespacedName) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, held := a.inflight[key]
	delete(a.inflight, key)
	delete(a.finished, key)
	return held
}

// finish records that key left the active set.
func (a *admission) finish(key types.NamespacedName) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.inflight, key)
	if a.finished == nil {
		a.finished = map[types.NamespacedName]struct{}{}
	}
	a.finished[key] = struct{}{}
}

// checkValves applies the consecutive-failure block and the concurrency caps. When the request
// may start, it is recorded as admitted before the caller creates its first child.
func (r *Reconciler) checkValves(ctx context.Context, s *scope) (blocked bool, reason, message string, retry time.Duration) {
	rr := s.rr
	if until, n, err := r.fingerprintBlockedUntil(ctx, rr, s.now); err == nil && until.After(s.now) {
		return true, remediationv1.ReasonConsecutiveFailures,
			fmt.Sprintf("blocked: %d consecutive failed remediations of this signal; retrying after %s", n, until.UTC().Format(time.RFC3339)),
			until.Sub(s.now)
	}
	if r.Config.MaxActive == 0 && r.Config.MaxActivePerNamespace == 0 {
		return false, "", "", 0
	}
	a := &r.admission
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.inflight == nil {
		a.inflight = map[types.NamespacedName]string{}
	}
	key := keyOf(rr)
	targetNS := rr.Spec.TargetResource.Namespace
	var all remediationv1.RemediationRequestList
	if err := r.Client.List(ctx, &all, client.InNamespace(rr.Namespace), client.MatchingFields{indexActive: "all"}); err != nil {
		return true, remediationv1.ReasonConcurrencyLimit, "waiting: cannot count active remediations", r.Config.BlockedRecheck
	}
	active := map[types.NamespacedName]string{}
	for i := range all.Items {
		active[keyOf(&all.Items[i])] = all.Items[i].Spec.TargetResource.Namespace
	}
	// Admissions the cache already shows leave the in-flight set; finished requests the cache
	// still shows as active do not count, and leave the finished set once the cache catches up.
	for k := range a.inflight {
		if _, ok := active[k]; ok {
			delete(a.inflight, k)
		}
	}
	for k := range a.finished {
		if _, ok := active[k]; ok {
			delete(active, k)
		} else {
			delete(a.finished, k)
		}
	}
	for k, ns := range a.inflight {
		if k != key {
			active[k] = ns
		}
	}
	total, perNS := 0, 0
	for k, ns := range active {
		if k == key {
			continue
		}
		total++
		if ns == targetNS {
			perNS++
		}
	}
	if r.Config.MaxActive > 0 && total >= r.Config.MaxActive {
		return true, remediationv1.ReasonConcurrencyLimit,
			fmt.Sprintf("waiting: %d remediations are active, the cap is %d", total, r.Config.MaxActive), r.Config.BlockedRecheck
	}
	if r.Config.MaxActivePerNamespace > 0 && perNS >= r.Config.MaxActivePerNamespace {
		return true, remediationv1.ReasonConcurrencyLimit,
			fmt.Sprintf("waiting: %d remediations are active in namespace %q, the cap is %d", perNS, targetNS, r.Config.MaxActivePerNamespace), r.Config.BlockedRecheck
	}
	a.inflight[key] = targetNS
	return false, "", "", 0
}

// failedRemediation reports whether a finished request counts toward the consecutive-failure
// block: Failed, TimedOut, or a change made that did not help (Completed/Ineffective).
func failedRemediation(rr *remediationv1.RemediationRequest) bool {
	switch rr.Status.OverallPhase {
	case remediationv1.PhaseFailed, remediationv1.PhaseTimedOut:
		return true
	case remediationv1.PhaseCompleted:
		return rr.Status.Outcome == remediationv1.OutcomeIneffective
	}
	return false
}

// fingerprintBlockedUntil returns when the fingerprint's block ends: after FailureThreshold
// consecutive failed remediations (failedRemediation), it is blocked for FailureBlock from the last one.
func (r *Reconciler) fingerprintBlockedUntil(ctx context.Context, rr *remediationv1.RemediationRequest, now time.Time) (time.Time, int, error) {
	if r.Config.FailureThreshold <= 0 {
		return time.Time{}, 0, nil
	}
	same, err := r.fingerprints.list(ctx, r.Client, rr.Namespace, rr.Spec.SignalFingerprint)
	if err != nil {
		return time.Time{}, 0, err
	}
	var done []remediationv1.RemediationRequest
	for _, o := range same {
		if o.Name != rr.Name && o.Status.OverallPhase.IsTerminal() && o.Status.CompletionTime != nil {
			done = append(done, o)
		}
	}
	// newest first
	for i := 1; i < len(done); i++ {
		for j := i; j > 0 && done[j].Status.CompletionTime.After(done[j-1].Status.CompletionTime.Time); j-- {
			done[j], done[j-1] = done[j-1], done[j]
		}
	}
	n := 0
	for i := range done {
		if !failedRemediation(&done[i]) {
			break
		}
		n++
	}
	if n < r.Config.FailureThreshold {
		return time.Time{}, n, nil
	}
	return done[0].Status.CompletionTime.Add(r.Config.FailureBlock), n, nil
}
