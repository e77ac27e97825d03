// Package skeleton holds the parts every Kubernaut reconciler shares (STYLE.md, "Reconcile"):
// the status patcher and the slim cache of a kind the reconciler reads live.
//
// A reconcile reads its object (ignoring NotFound), snapshots it with NewPatcher and defers
// Finish; its phases change the status in place:
//
//	s := &scope{obj: obj}
//	p := skeleton.NewPatcher(r.Client, obj, skeleton.WithConditions(func() { setConditions(s) }))
//	defer p.Finish(ctx, &res, &retErr)
//	return r.reconcilePhases(ctx, s)
//
// Patch writes progress in the middle of a reconcile (before a long step, before and after a
// change); Finish applies the rules every controller follows:
//   - the status is written as one merge patch from the last snapshot, and not at all when it
//     did not change (with WithOptimisticLock the snapshot's resourceVersion is a precondition);
//   - the conditions are computed in one place, the function given to WithConditions (or a
//     call right before Finish), from the status and what the reconcile decided;
//   - status.observedGeneration is set to metadata.generation when the reconcile ends without an
//     error or with a reconcile.TerminalError (a verdict on this generation);
//   - invalid user input ends the object in a failed phase with a condition saying why, and the
//     reconcile returns reconcile.TerminalError (never retried);
//   - the reconcile's error wins: an error of the patch is joined to it (errors.Join), never put
//     in its place; a terminal error whose status could not be written is retried;
//   - a conflict (the optimistic lock, or any write the reconcile made) requeues silently after
//     ConflictRequeue: no error, so it never shows in logs, conditions or events.
package skeleton

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// ConflictRequeue is how soon a reconcile that met a conflict runs again.
const ConflictRequeue = 100 * time.Millisecond

// Patcher writes the status of one object, read at the start of a reconcile.
type Patcher struct {
	client     client.Client
	obj        client.Object
	before     client.Object
	lock       bool
	onWrite    func()
	conditions func()
}

// Option configures a Patcher.
type Option func(*Patcher)

// WithOptimisticLock makes every patch carry the resourceVersion of the last write (or of the
// read) as a precondition: a second writer, such as an old leader, gets a conflict instead of
// overwriting progress.
func WithOptimisticLock() Option { return func(p *Patcher) { p.lock = true } }

// WithConditions calls f before every write (Patch and Finish): f computes the conditions from
// the status and what the reconcile decided, so that they are computed in one place and every
// write carries them.
func WithConditions(f func()) Option { return func(p *Patcher) { p.conditions = f } }

// OnWrite calls f after every status write that succeeded (the object then carries the new
// resourceVersion).
func OnWrite(f func()) Option { return func(p *Patcher) { p.onWrite = f } }

// NewPatcher snapshots obj, a pointer to an API type with a Status field. The reconcile then
// changes obj's status in place.
func NewPatcher(c client.Client, obj client.Object, opts ...Option) *Patcher {
	p := &Patcher{client: c, obj: obj, before: obj.DeepCopyObject().(client.Object)}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Changed reports whether the status differs from the last snapshot.
func (p *Patcher) Changed() bool {
	return !equality.Semantic.DeepEqual(statusOf(p.before).Interface(), statusOf(p.obj).Interface())
}

// Patch writes the status now, when it changed since the last snapshot, and takes a new
// snapshot: for progress a reconcile shows before a long step or records before and after a
// change. An object deleted meanwhile is not an error.
func (p *Patcher) Patch(ctx context.Context) error {
	if p.conditions != nil {
		p.conditions()
	}
	if !p.Changed() {
		return nil
	}
	patch := client.MergeFrom(p.before)
	if p.lock {
		patch = client.MergeFromWithOptions(p.before, client.MergeFromWithOptimisticLock{})
	}
	if err := p.client.Status().Patch(ctx, p.obj, patch); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("patching the status of %s: %w", klog.KObj(p.obj), err)
	}
	p.before = p.obj.DeepCopyObject().(client.Object)
	if p.onWrite != nil {
		p.onWrite()
	}
	return nil
}

// Finish ends a reconcile; call it deferred with the reconcile's named results. It sets
// status.observedGeneration when the reconcile ended without error (or with a terminal one),
// writes the status when it changed, and settles the result (see the package doc). It reports
// whether the status is written (or had nothing to write).
func (p *Patcher) Finish(ctx context.Context, res *ctrl.Result, retErr *error) bool {
	terminal := *retErr != nil && errors.Is(*retErr, reconcile.TerminalError(nil))
	if *retErr == nil || terminal {
		if f := statusOf(p.obj).FieldByName("ObservedGeneration"); f.IsValid() && f.CanSet() && f.Kind() == reflect.Int64 {
			f.SetInt(p.obj.GetGeneration())
		}
	}
	patchErr := p.Patch(ctx)
	switch {
	case patchErr == nil:
	case *retErr == nil:
		*retErr = patchErr
	case terminal:
		// The verdict is not stored: retry it (a terminal error is never retried).
		*retErr = errors.Join(errors.Unwrap(*retErr), patchErr)
	default:
		*retErr = errors.Join(*retErr, patchErr)
	}
	if *retErr != nil && isConflict(*retErr) {
		*retErr = nil
		*res = ctrl.Result{RequeueAfter: ConflictRequeue}
	}
	if *retErr != nil {
		*res = ctrl.Result{} // the error requeues; a result beside it is ignored (and warned about)
	}
	return patchErr == nil
}

// isConflict reports whether every error in err is a conflict.
func isConflict(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !isConflict(e) {
				return false
			}
		}
		return true
	}
	return apierrors.IsConflict(err)
}

// statusOf returns the Status field of the struct obj points to.
func statusOf(obj client.Object) reflect.Value {
	v := reflect.ValueOf(obj)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	f := v.FieldByName("Status")
	if !f.IsValid() {
		panic(fmt.Sprintf("skeleton: %T has no Status field", obj))
	}
	return f
}

// Discard takes a new snapshot without writing: the changes so far are never written (for
// an object the reconcile deleted).
func (p *Patcher) Discard() {
	p.before = p.obj.DeepCopyObject().(client.Object)
}
