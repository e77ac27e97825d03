package orchestrator

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
)

// reconcileTerminal runs the one-off effects of a finished request: its escalation, its outcome
// notification, waking Blocked requests, and deletion after the retention period.
func (r *Reconciler) reconcileTerminal(ctx context.Context, s *scope) error {
	rr := s.rr
	key := keyOf(rr)
	if s.startPhase != rr.Status.OverallPhase {
		// This reconcile freed a slot: Blocked requests are woken once the status is written.
		r.admission.finish(key)
		s.freedSlot = true
	} else {
		r.admission.release(key)
	}
	if err := r.escalate(ctx, s); err != nil {
		return err
	}
	if rr.Status.OverallPhase == remediationv1.PhaseCompleted {
		if err := r.ensureNotification(ctx, s, buildOutcomeNotification(rr)); err != nil {
			return err
		}
	}
	if r.Config.Retention <= 0 || rr.Status.CompletionTime == nil {
		return nil
	}
	if len(rr.Status.Audit.PendingPhases) > 0 {
		return nil // never delete before the audit trail is complete
	}
	if _, _, ok := escalationFor(rr); ok && r.Notifier != nil {
		if phase, _, _ := escalationFor(rr); !escalated(rr, phase) {
			return nil
		}
	}
	left := rr.Status.CompletionTime.Add(r.Config.Retention).Sub(s.now)
	if left > 0 {
		s.requeueAfter(left)
		return nil
	}
	// Children carry controller owner references: the garbage collector deletes them with the request.
	if err := r.Client.Delete(ctx, rr, client.PropagationPolicy("Background"), client.Preconditions{UID: &rr.UID}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting expired %s: %w", rr.Name, err)
	}
	log.FromContext(ctx).Info("Deleted after retention", "completionTime", rr.Status.CompletionTime)
	s.patch.Discard() // nothing left to patch
	return nil
}
