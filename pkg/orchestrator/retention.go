package orchestrator

import (
	"context"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
)

// settled reports whether a finished request has nothing left for a reconcile to do but its
// deletion once the retention period is over: its audit trail is stored, its escalation sent
// (when it needs one), its outcome notification created (when it completed), and its status
// observed its generation. A cluster keeps thousands of these; at start-up they are not
// reconciled at all (see settledAtStart), and the retention sweep wakes each when it expires.
func (r *Reconciler) settled(rr *remediationv1.RemediationRequest) bool {
	st := &rr.Status
	if !st.OverallPhase.IsTerminal() || st.CompletionTime == nil || rr.DeletionTimestamp != nil ||
		len(st.Audit.PendingPhases) > 0 || st.ObservedGeneration != rr.Generation || len(st.Conditions) == 0 {
		return false
	}
	if st.OverallPhase == remediationv1.PhaseCompleted {
		name := completionName(rr.Name)
		if st.Outcome == remediationv1.OutcomeManualReviewRequired {
			name = manualReviewName(rr.Name)
		}
		if !hasRef(st.NotificationRequestRefs, name) {
			return false
		}
	}
	if phase, _, ok := escalationFor(rr); ok && r.Notifier != nil && !escalated(rr, phase) {
		return false
	}
	return true
}

// settledAtStart drops the creation events of settled requests, which is how the informer
// reports every existing request when the orchestrator starts: 10,000 finished requests cost
// no reconcile, no allocation burst and no work-queue entry. Updates always pass.
func (r *Reconciler) settledAtStart() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool {
			rr, ok := e.Object.(*remediationv1.RemediationRequest)
			return !ok || !r.settled(rr)
		},
	}
}

// sweepRetention wakes, every Config.RetentionSweep until ctx ends, the finished requests whose retention
// period is over, so that their reconcile deletes them. Requests reconciled since they finished
// are also requeued for their deadline; the sweep covers the settled ones skipped at start-up.
func (r *Reconciler) sweepRetention(ctx context.Context) error {
	if r.Config.Retention <= 0 {
		return nil
	}
	interval := r.Config.RetentionSweep
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			r.wakeExpired(ctx)
		}
	}
}

// wakeExpired enqueues the finished requests past their retention period (as many as the wake
// channel takes; the next sweep continues).
func (r *Reconciler) wakeExpired(ctx context.Context) {
	var list remediationv1.RemediationRequestList
	// Read-only walk over the cache: no copy of 10,000 requests per sweep.
	if err := r.Client.List(ctx, &list, client.InNamespace(r.Config.Namespace), client.UnsafeDisableDeepCopy); err != nil {
		return
	}
	now := r.now()
	for i := range list.Items {
		rr := &list.Items[i]
		st := &rr.Status
		if !st.OverallPhase.IsTerminal() || st.CompletionTime == nil || now.Before(st.CompletionTime.Add(r.Config.Retention)) {
			continue
		}
		ref := &remediationv1.RemediationRequest{}
		ref.Name, ref.Namespace = rr.Name, rr.Namespace
		if !r.tryWake(ref) {
			return
		}
	}
}
