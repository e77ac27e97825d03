package orchestrator

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
)

// holdDeletionForAudit adds remediationv1.FinalizerAudit to a request that has, or will have,
// audit records to deliver (it runs, or its outbox is not empty). Settled requests never get it.
func (r *Reconciler) holdDeletionForAudit(ctx context.Context, rr *remediationv1.RemediationRequest) error {
	if r.Audit == nil || controllerutil.ContainsFinalizer(rr, remediationv1.FinalizerAudit) ||
		(rr.Status.OverallPhase.IsTerminal() && len(rr.Status.Audit.PendingPhases) == 0) {
		return nil
	}
	patch := client.MergeFromWithOptions(rr.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.AddFinalizer(rr, remediationv1.FinalizerAudit)
	if err := r.Client.Patch(ctx, rr, patch); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("adding the audit finalizer to %s: %w", klog.KObj(rr), err)
	}
	return nil
}

// reconcileDelete lets a deleted request go once its audit outbox is delivered. While
// datastorage refuses, the request stays (retried with backoff) for at most
// Config.AuditFlushOnDelete after its deletion, or not at all with AnnotationSkipAuditFlush;
// then it goes anyway and a Warning event AuditRecordsLost says how many records were lost.
func (r *Reconciler) reconcileDelete(ctx context.Context, rr *remediationv1.RemediationRequest) error {
	// A deleted request no longer counts against the caps (isActive): Blocked ones may start.
	held := r.admission.forget(keyOf(rr))
	if p := rr.Status.OverallPhase; held || (p != "" && p != remediationv1.PhasePending && p != remediationv1.PhaseBlocked && !p.IsTerminal()) {
		r.wakeBlocked(ctx, rr.Namespace, 10)
	}
	if !controllerutil.ContainsFinalizer(rr, remediationv1.FinalizerAudit) {
		return nil
	}
	s := r.newScope(rr)
	skip := rr.Annotations[remediationv1.AnnotationSkipAuditFlush] == "true"
	var err error
	if !skip && len(rr.Status.Audit.PendingPhases) > 0 {
		if err = r.loadChildren(ctx, s); err == nil {
			err = r.flushAudit(ctx, s)
		}
	}
	if lost := len(s.rr.Status.Audit.PendingPhases); lost > 0 {
		waited := s.now.Sub(rr.DeletionTimestamp.Time)
		if !skip && waited < r.Config.AuditFlushOnDelete {
			if perr := s.patch.Patch(ctx); perr != nil {
				return perr
			}
			return fmt.Errorf("holding the deletion of %s until its %d audit record(s) reach datastorage (at most %s more): %w",
				klog.KObj(rr), lost, (r.Config.AuditFlushOnDelete - waited).Round(time.Second), err)
		}
		why := fmt.Sprintf("waited %s, the --audit-flush-on-delete bound", waited.Round(time.Second))
		if skip {
			why = "annotated " + remediationv1.AnnotationSkipAuditFlush
		}
		r.Recorder.Eventf(rr, nil, corev1.EventTypeWarning, "AuditRecordsLost", "Delete",
			"deleted with %d audit record(s) datastorage never acknowledged (%s)", lost, why)
		log.FromContext(ctx).Info("Deleted without its audit records", "records", lost, "reason", why)
	}
	patch := client.MergeFromWithOptions(rr.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(rr, remediationv1.FinalizerAudit)
	if err := r.Client.Patch(ctx, rr, patch); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("removing the audit finalizer of %s: %w", klog.KObj(rr), err)
	}
	return nil
}
