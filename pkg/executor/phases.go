package executor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/executor/action"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// Bounds of the status fields (the CRD's MaxLength).
const (
	maxMessage       = 1024
	maxOpMessage     = 2048
	maxDryRunResult  = 4096
	defaultExecution = 10 * time.Minute
)

// init starts the status: start time and one Pending result per operation.
func (r *Reconciler) init(s *scope) {
	st := &s.ke.Status
	if st.StartTime == nil {
		t := metav1.NewTime(s.now)
		st.StartTime = &t
	}
	if len(st.OperationResults) != len(s.ke.Spec.Operations) {
		st.OperationResults = make([]kev1.OperationResult, len(s.ke.Spec.Operations))
		for i, op := range s.ke.Spec.Operations {
			st.OperationResults[i] = kev1.OperationResult{Name: op.Name, Phase: kev1.OperationPending}
		}
	}
}

// op builds what an implementation sees of operation i, started at start.
func (r *Reconciler) op(s *scope, i int, start time.Time) *action.Op {
	o := s.ke.Spec.Operations[i]
	params := o.Parameters
	if cat, ok := actions.Lookup(o.Action); ok {
		params = cat.WithDefaults(o.Parameters)
	}
	timeout := operationTimeout(o, s.cfg)
	if v, ok := params["timeout"]; ok { // drain_node's own bound
		if d, err := time.ParseDuration(v); err == nil && d > 0 && d < timeout {
			timeout = d
		}
	}
	return &action.Op{
		Operation: o,
		Params:    params,
		ID: action.Identity{Execution: s.ke.Namespace + "/" + s.ke.Name, UID: string(s.ke.UID),
			Operation: o.Name, Time: start.UTC()},
		Deadline: start.Add(timeout),
		LiveUID:  s.ke.Status.OperationResults[i].TargetUID,
	}
}

// operationTimeout is the operation's own timeout (the workflow's step timeout); without one,
// the ConfigMap's defaultOperationTimeout when set, else the action's in the catalog.
func operationTimeout(o common.Operation, cfg SafetyConfig) time.Duration {
	if o.Timeout != nil && o.Timeout.Duration > 0 {
		return o.Timeout.Duration
	}
	if cfg.DefaultOperationTimeout > 0 {
		return cfg.DefaultOperationTimeout
	}
	if cat, ok := actions.Lookup(o.Action); ok && cat.Timeout > 0 {
		return cat.Timeout
	}
	return time.Minute // not a catalog action: refused before it could run
}

// opStart is the start time of a new operation: whole seconds, as status stores it, so that
// the identity written on the target reads the same after a restart.
func (s *scope) opStart() time.Time { return s.now.Truncate(time.Second) }

// reconcileValidating checks the chain, then every operation, before anything changes. In
// dry-run mode it also finishes the execution. wait > 0: the RemediationRequest does not name
// the execution yet; check again then.
func (r *Reconciler) reconcileValidating(ctx context.Context, s *scope) (time.Duration, error) {
	ch, rf, wait, err := r.verifyChain(ctx, s)
	if err == nil && wait > 0 && s.ke.Status.Phase == "" && s.now.Sub(s.ke.CreationTimestamp.Time) < quietChainWait {
		// The orchestrator names a new execution right after creating it: a wait this short is
		// not written (the request's watch wakes the execution).
		s.quiet = true
		return min(wait, chainPoll), nil
	}
	r.init(s)
	st := &s.ke.Status
	st.Phase = kev1.PhaseValidating
	switch {
	case err != nil:
		return 0, err
	case wait > 0:
		st.Message = "waiting for the RemediationRequest to name this execution"
		return min(wait, chainPoll), nil
	case rf != nil:
		r.refuseAll(s, rf)
		return 0, refused(rf)
	}
	s.chain = ch
	for i := range s.ke.Spec.Operations {
		op := r.op(s, i, s.opStart())
		c, rf, err := r.check(ctx, s, i, op)
		if rf == nil && err == nil {
			rf = dependsOnEarlier(s.ke.Spec.Operations, i)
		}
		if err != nil {
			return 0, err
		}
		if rf != nil {
			r.refuseOp(s, i, rf)
			r.skipFrom(s, i+1, fmt.Sprintf("not run: operation %s was refused", op.Name))
			r.finish(s, kev1.PhaseFailed, rf.Reason, fmt.Sprintf("operation %s refused (%s): %s", op.Name, rf.Reason, rf.Message))
			return 0, refused(rf)
		}
		c.start = op.ID.Time
		s.checked[i] = c
		st.OperationResults[i].DryRunResult = text.TruncateBytes(c.dryRun, maxDryRunResult)
	}
	s.safe = condition(s, kev1.ConditionSafe, true, kev1.ReasonSafetyPassed, fmt.Sprintf("%d operations passed the safety checks and the server-side dry-run", len(s.ke.Spec.Operations)))
	if s.dryRun() {
		for i := range st.OperationResults {
			res := &st.OperationResults[i]
			res.Phase = kev1.OperationSucceeded
			res.Message = text.TruncateBytes("dry run, nothing changed; would: "+s.checked[i].plan.Summary, maxOpMessage)
			t := metav1.NewTime(s.now)
			res.StartTime, res.CompletionTime = &t, &t
			operationsTotal.WithLabelValues(s.ke.Spec.Operations[i].Action, ResultDryRun).Inc()
		}
		r.finish(s, kev1.PhaseCompleted, kev1.ReasonDryRunCompleted, fmt.Sprintf("dry run: %d operations validated, nothing changed", len(st.OperationResults)))
		return 0, nil
	}
	st.Phase = kev1.PhaseExecuting
	return 0, nil
}

// refused is the reconcile's error for an execution refused at validation: the spec cannot run
// as it is (the status says why), so it is not retried.
func refused(rf *action.Refusal) error {
	return reconcile.TerminalError(fmt.Errorf("refused (%s): %s", rf.Reason, rf.Message))
}

// dependsOnEarlier refuses an operation that depends on one that does not run before it: the
// operations run in their order, which the workflow made dependency-ordered.
func dependsOnEarlier(ops []common.Operation, i int) *action.Refusal {
	if slices.IndexFunc(ops, func(o common.Operation) bool { return o.Name == ops[i].Name }) != i {
		return refusal(kev1.ReasonInvalidParameters, "operation name %s is used twice", ops[i].Name)
	}
	for _, dep := range ops[i].DependsOn {
		j := slices.IndexFunc(ops, func(o common.Operation) bool { return o.Name == dep })
		if j < 0 || j >= i {
			return refusal(kev1.ReasonInvalidParameters, "operation %s depends on %q, which does not run before it", ops[i].Name, dep)
		}
	}
	return nil
}

// reconcileExecuting runs the operations in order; each one's change, post-condition and
// failure are handled by runOperation, a failure by rollback.
func (r *Reconciler) reconcileExecuting(ctx context.Context, s *scope) (ctrl.Result, error) {
	st := &s.ke.Status
	if limit := executionTimeout(s.ke); st.StartTime != nil && s.now.After(st.StartTime.Add(limit)) {
		for i := range st.OperationResults {
			if p := st.OperationResults[i].Phase; p == kev1.OperationPending || p == kev1.OperationRunning {
				r.failOp(s, i, kev1.ReasonTimedOut, fmt.Sprintf("the execution timeout %s passed", limit))
				return ctrl.Result{}, r.rollback(ctx, s, i)
			}
		}
	}
	for i := range st.OperationResults {
		switch st.OperationResults[i].Phase {
		case kev1.OperationSucceeded:
			continue
		case kev1.OperationPending, kev1.OperationRunning:
			st.Message = fmt.Sprintf("running operation %s (%d of %d)", st.OperationResults[i].Name, i+1, len(st.OperationResults))
			res, done, err := r.runOperation(ctx, s, i)
			if err != nil || !done || s.held || st.Phase.IsTerminal() {
				return res, err
			}
			if st.OperationResults[i].Phase != kev1.OperationSucceeded {
				return ctrl.Result{}, r.rollback(ctx, s, i)
			}
		default:
			// Failed, Refused, RolledBack or Skipped while still Executing: a rollback was
			// interrupted; finish it (reverting is idempotent).
			return ctrl.Result{}, r.rollback(ctx, s, r.failedIndex(s))
		}
	}
	r.finish(s, kev1.PhaseCompleted, kev1.ReasonExecuted, fmt.Sprintf("%d operations succeeded", len(st.OperationResults)))
	return ctrl.Result{}, nil
}

func (r *Reconciler) failedIndex(s *scope) int {
	for i, res := range s.ke.Status.OperationResults {
		if res.Phase == kev1.OperationFailed || res.Phase == kev1.OperationRefused {
			return i
		}
	}
	return len(s.ke.Status.OperationResults) - 1
}

// runOperation advances operation i: check and change a Pending one, recognise or redo the
// change of a Running one whose change was not recorded, then wait for its post-condition.
// done reports that the operation reached a final phase.
func (r *Reconciler) runOperation(ctx context.Context, s *scope, i int) (ctrl.Result, bool, error) {
	res := &s.ke.Status.OperationResults[i]
	impl, ok := action.For(s.ke.Spec.Operations[i].Action)
	if !ok {
		r.refuseOp(s, i, refusal(kev1.ReasonNotCatalogAction, "action %q has no implementation", s.ke.Spec.Operations[i].Action))
		return ctrl.Result{}, true, nil
	}
	if res.Phase == kev1.OperationPending {
		start := s.opStart()
		c := s.checked[i]
		if c != nil && !s.changed {
			start = c.start
		}
		op := r.op(s, i, start)
		if c == nil || s.changed {
			var rf *action.Refusal
			var err error
			if c, rf, err = r.check(ctx, s, i, op); err != nil {
				return ctrl.Result{}, false, err
			} else if rf != nil {
				r.refuseOp(s, i, rf)
				return ctrl.Result{}, true, nil
			}
		}
		// The budgets and the one node action at a time, counted from every execution's
		// status and the operations reserved and not yet seen there, under one lock.
		if rf, err := r.reserve(ctx, s, i, op, c); err != nil || rf != nil {
			if rf != nil {
				r.refuseOp(s, i, rf)
				return ctrl.Result{}, true, nil
			}
			return ctrl.Result{}, false, err
		}
		t := metav1.NewTime(start)
		res.Phase, res.StartTime = kev1.OperationRunning, &t
		r.record(s, i, c)
		// Progress before the change: a restart finds the operation Running and checks the target.
		if err := s.patch.Patch(ctx); err != nil {
			r.forget(s, i)
			return ctrl.Result{}, false, err
		}
		return r.apply(ctx, s, i, op, c.plan, impl)
	}
	op := r.op(s, i, res.StartTime.Time)
	if res.AppliedTime == nil {
		applied, err := impl.Applied(ctx, s.env, op)
		if err != nil {
			if rf, ok := action.AsRefusal(err); ok {
				r.failOp(s, i, rf.Reason, rf.Message)
				return ctrl.Result{}, true, nil
			}
			return ctrl.Result{}, false, err
		}
		if !applied {
			// The change was not made (the reconcile stopped before it, or it failed): check
			// again on the live state and make it.
			c, rf, err := r.check(ctx, s, i, op)
			if err != nil {
				return ctrl.Result{}, false, err
			}
			if rf != nil {
				r.refuseOp(s, i, rf)
				return ctrl.Result{}, true, nil
			}
			r.record(s, i, c)
			if err := s.patch.Patch(ctx); err != nil {
				return ctrl.Result{}, false, err
			}
			return r.apply(ctx, s, i, op, c.plan, impl)
		}
		t := metav1.NewTime(s.now)
		res.AppliedTime = &t
		res.Message = "applied (recognised on the target after a restart)"
		if res.Rollback != nil && res.Rollback.PreviousState != "" && action.StateGeneration(res.Rollback.PreviousState) == 0 {
			// The generation the change produced, for a later operation on the same target.
			if obj, err := r.liveTarget(ctx, s, op.Target); err == nil && obj != nil {
				res.Rollback.PreviousState = action.WithGeneration(res.Rollback.PreviousState, obj.GetGeneration())
			}
		}
		log.FromContext(ctx).Info("Change found applied after a restart", "operation", op.Name)
	}
	return r.verify(ctx, s, i, op, impl)
}

// record writes the plan of operation i into its result: dry-run diff, before-state, target UID.
func (r *Reconciler) record(s *scope, i int, c *checked) {
	res := &s.ke.Status.OperationResults[i]
	cat, _ := actions.Lookup(s.ke.Spec.Operations[i].Action)
	res.DryRunResult = text.TruncateBytes(c.dryRun, maxDryRunResult)
	res.Message = text.TruncateBytes("applying: "+c.plan.Summary, maxOpMessage)
	res.Rollback = &kev1.RollbackInfo{Available: cat.Reversible && action.Revertible(c.plan.PreviousState), PreviousState: c.plan.PreviousState}
	if c.plan.Target != nil {
		res.TargetUID = string(c.plan.Target.GetUID())
	}
	res.CooldownKey = c.plan.CooldownKey
}

// apply makes the change of operation i, records it and checks its post-condition. Right
// before the change it reads the safety configuration (kill switch, dry-run) and the chain again.
func (r *Reconciler) apply(ctx context.Context, s *scope, i int, op *action.Op, plan *action.Plan, impl action.Implementation) (ctrl.Result, bool, error) {
	res := &s.ke.Status.OperationResults[i]
	op.LiveUID = res.TargetUID
	if done, err := r.beforeChange(ctx, s, i); done || err != nil || s.held {
		return ctrl.Result{}, done, err
	}
	if plan.Apply != nil {
		if _, err := plan.Apply(ctx, false); err != nil {
			if transient(err) {
				return ctrl.Result{}, false, err // Running, not applied: the next reconcile checks the target
			}
			r.failOp(s, i, kev1.ReasonOperationFailed, err.Error())
			return ctrl.Result{}, true, nil
		}
		if res.Rollback != nil && plan.PreviousState != "" {
			// What the API server stored: the values a revert tests for, the generation a later
			// operation on the same target expects.
			res.Rollback.PreviousState = plan.PreviousState
			cat, _ := actions.Lookup(op.Action)
			res.Rollback.Available = cat.Reversible && action.Revertible(plan.PreviousState)
		}
		changesTotal.WithLabelValues(op.Action).Inc()
	}
	s.changed = true
	if r.AfterChange != nil {
		if err := r.AfterChange(s.ke, op.Name); err != nil {
			s.crashed = true
			return ctrl.Result{}, false, err
		}
	}
	t := metav1.NewTime(r.Now())
	res.AppliedTime = &t
	res.Message = text.TruncateBytes("applied: "+plan.Summary, maxOpMessage)
	log.FromContext(ctx).Info("Applied", "operation", op.Name, "action", op.Action, "target", objName(op), "change", plan.Summary)
	// Progress after the change is written with what comes next, in one write: the
	// post-condition's wait, the next operation's Running, or the end of the execution. A crash
	// before that write is recognised on the target.
	return r.verify(ctx, s, i, op, impl)
}

// waitingSep separates what an operation changed from what its post-condition waits for.
const waitingSep = "; waiting: "

// verify checks the post-condition of an applied operation until its deadline.
func (r *Reconciler) verify(ctx context.Context, s *scope, i int, op *action.Op, impl action.Implementation) (ctrl.Result, bool, error) {
	res := &s.ke.Status.OperationResults[i]
	if !s.cfg.PostConditions {
		r.succeedOp(s, i, res.Message)
		return ctrl.Result{}, true, nil
	}
	if cv, ok := impl.(action.ChangingVerifier); ok && cv.VerifyChanges() {
		// A drain's post-condition evicts the pods left: a change like any other.
		if done, err := r.beforeChange(ctx, s, i); done || err != nil || s.held {
			return ctrl.Result{}, done, err
		}
	}
	done, waiting, err := impl.Verify(ctx, s.env, op)
	if err != nil {
		if rf, ok := action.AsRefusal(err); ok {
			r.failOp(s, i, rf.Reason, rf.Message)
			return ctrl.Result{}, true, nil
		}
		if transient(err) {
			return ctrl.Result{}, false, err
		}
		r.failOp(s, i, kev1.ReasonPostCondition, err.Error())
		return ctrl.Result{}, true, nil
	}
	base, _, _ := strings.Cut(res.Message, waitingSep)
	if done {
		r.succeedOp(s, i, base)
		return ctrl.Result{}, true, nil
	}
	now := r.Now()
	if now.After(op.Deadline) {
		reason := kev1.ReasonPostCondition
		if tr, ok := impl.(action.TimeoutReasoner); ok {
			reason = tr.TimeoutReason()
		}
		r.failOp(s, i, reason, fmt.Sprintf("changed, but the post-condition did not hold within %s: %s", op.Deadline.Sub(res.StartTime.Time).Round(time.Second), waiting))
		return ctrl.Result{}, true, nil
	}
	if !strings.Contains(res.Message, waitingSep) || res.AppliedTime == nil || now.Sub(res.AppliedTime.Time) >= quietProgress {
		res.Message = text.TruncateBytes(base+waitingSep+waiting, maxOpMessage)
	}
	wait := min(pollAfter(r.PollInterval, res.AppliedTime, now), op.Deadline.Sub(now)+time.Millisecond)
	return ctrl.Result{RequeueAfter: max(wait, time.Millisecond)}, false, nil
}

// quietChainWait is how long a new execution waits for its request to name it before the wait
// is written to its status.
const quietChainWait = 5 * time.Second

// quietProgress is how long after the change the post-condition's progress ("1 of 2 replicas
// updated") is not written to status: the first wait is written with the change, and a rollout
// that ends within this time costs no status write per stage (each is a write of the whole
// execution, which an alert storm multiplies). A slower one reports every stage it reaches later.
const quietProgress = 5 * time.Second

// firstPoll is how soon a post-condition is checked again right after the change.
const firstPoll = 250 * time.Millisecond

// pollAfter is when to check a post-condition again: soon after the change (a rollout on a quiet
// cluster takes a second or two), then backing off to every interval: half the time since the
// change, between firstPoll and interval.
func pollAfter(interval time.Duration, applied *metav1.Time, now time.Time) time.Duration {
	if applied == nil {
		return interval
	}
	return min(interval, max(firstPoll, now.Sub(applied.Time)/2))
}

// rollback reverts, in reverse order, the completed reversible operations before failed (and
// failed itself when its change was made), skips the ones after it, and ends the execution:
// RolledBack when something was reverted and every revert worked, Failed otherwise.
func (r *Reconciler) rollback(ctx context.Context, s *scope, failed int) error {
	st := &s.ke.Status
	var reverted, irreversible, revertFailed, notReverted []string
	for j := failed; j >= 0; j-- {
		res := &st.OperationResults[j]
		if res.Phase == kev1.OperationRolledBack {
			reverted = append(reverted, res.Name)
			continue
		}
		changed := (j < failed && res.Phase == kev1.OperationSucceeded) || (j == failed && res.Phase == kev1.OperationFailed && res.AppliedTime != nil)
		if !changed {
			continue
		}
		if res.Rollback == nil || !res.Rollback.Available {
			if s.ke.Spec.Operations[j].Action != string(actions.NotifyOnly) {
				irreversible = append(irreversible, res.Name)
			}
			continue
		}
		if len(notReverted) > 0 {
			notReverted = append(notReverted, res.Name)
			continue
		}
		// A revert is a change: the kill switch holds it, a switch to dry-run stops it.
		switch g := r.gate(ctx, s); g {
		case gateHold:
			return nil // resumed where it stopped (reverting is idempotent)
		case gateDryRun:
			notReverted = append(notReverted, res.Name)
			continue
		}
		op := r.op(s, j, res.StartTime.Time)
		impl, _ := action.For(op.Action)
		if err := impl.Revert(ctx, s.env, op, res.Rollback.PreviousState); err != nil {
			if _, refused := action.AsRefusal(err); !refused && transient(err) {
				return err // retried; what was reverted is recorded
			}
			revertFailed = append(revertFailed, res.Name)
			res.Message = text.TruncateBytes(res.Message+"; rollback failed: "+err.Error(), maxOpMessage)
			rollbacksTotal.WithLabelValues("failed").Inc()
			continue
		}
		res.Phase = kev1.OperationRolledBack
		res.Message = text.TruncateBytes(fmt.Sprintf("rolled back after %s failed; was: %s", st.OperationResults[failed].Name, res.Message), maxOpMessage)
		reverted = append(reverted, res.Name)
		rollbacksTotal.WithLabelValues("reverted").Inc()
		operationsTotal.WithLabelValues(op.Action, ResultRolledBack).Inc()
		log.FromContext(ctx).Info("Rolled back", "operation", op.Name, "action", op.Action, "target", objName(op))
		// Persist each revert, so that an interrupted rollback resumes where it stopped.
		if err := s.patch.Patch(ctx); err != nil {
			return err
		}
	}
	r.skipFrom(s, failed+1, fmt.Sprintf("not run: operation %s failed", st.OperationResults[failed].Name))
	f := st.OperationResults[failed]
	msg := fmt.Sprintf("operation %s %s (%s): %s", f.Name, strings.ToLower(string(f.Phase)), f.Reason, f.Message)
	if f.Phase == kev1.OperationRolledBack {
		msg = fmt.Sprintf("operation %s failed and was rolled back", f.Name)
	}
	if len(reverted) > 0 {
		msg += "; rolled back: " + strings.Join(reverted, ", ")
	}
	if len(irreversible) > 0 {
		msg += "; not reversible, left changed: " + strings.Join(irreversible, ", ")
	}
	switch {
	case len(notReverted) > 0:
		r.finish(s, kev1.PhaseFailed, action.ReasonDryRunEnforced, msg+"; not rolled back, the safety ConfigMap switched to dry-run: "+strings.Join(notReverted, ", "))
	case len(revertFailed) > 0:
		r.finish(s, kev1.PhaseFailed, kev1.ReasonRollbackFailed, msg+"; rollback failed: "+strings.Join(revertFailed, ", "))
	case len(reverted) > 0:
		r.finish(s, kev1.PhaseRolledBack, kev1.ReasonRolledBack, msg)
	default:
		reason := f.Reason
		if reason == "" {
			reason = kev1.ReasonOperationFailed
		}
		r.finish(s, kev1.PhaseFailed, reason, msg)
	}
	return nil
}

// refuseAll refuses the first operation and skips the others (the configuration is unusable).
func (r *Reconciler) refuseAll(s *scope, rf *action.Refusal) {
	r.refuseOp(s, 0, rf)
	r.skipFrom(s, 1, "not run: "+rf.Message)
	r.finish(s, kev1.PhaseFailed, rf.Reason, rf.Message)
}

func (r *Reconciler) refuseOp(s *scope, i int, rf *action.Refusal) {
	res := &s.ke.Status.OperationResults[i]
	t := metav1.NewTime(s.now)
	res.Phase, res.Reason, res.Message, res.CompletionTime = kev1.OperationRefused, rf.Reason, text.TruncateBytes(rf.Message, maxOpMessage), &t
	refusalsTotal.WithLabelValues(rf.Reason).Inc()
	operationsTotal.WithLabelValues(s.ke.Spec.Operations[i].Action, ResultRefused).Inc()
	s.safe = condition(s, kev1.ConditionSafe, false, rf.Reason, text.TruncateBytes(fmt.Sprintf("operation %s: %s", res.Name, rf.Message), maxMessage))
}

func (r *Reconciler) failOp(s *scope, i int, reason, msg string) {
	res := &s.ke.Status.OperationResults[i]
	t := metav1.NewTime(r.Now())
	res.Phase, res.Reason, res.Message, res.CompletionTime = kev1.OperationFailed, reason, text.TruncateBytes(msg, maxOpMessage), &t
	operationsTotal.WithLabelValues(s.ke.Spec.Operations[i].Action, ResultFailed).Inc()
	if res.StartTime != nil {
		operationDuration.WithLabelValues(s.ke.Spec.Operations[i].Action).Observe(t.Sub(res.StartTime.Time).Seconds())
	}
}

func (r *Reconciler) succeedOp(s *scope, i int, msg string) {
	res := &s.ke.Status.OperationResults[i]
	t := metav1.NewTime(r.Now())
	res.Phase, res.Reason, res.Message, res.CompletionTime = kev1.OperationSucceeded, kev1.ReasonExecuted, text.TruncateBytes(msg, maxOpMessage), &t
	operationsTotal.WithLabelValues(s.ke.Spec.Operations[i].Action, ResultSucceeded).Inc()
	if res.StartTime != nil {
		operationDuration.WithLabelValues(s.ke.Spec.Operations[i].Action).Observe(t.Sub(res.StartTime.Time).Seconds())
	}
}

func (r *Reconciler) skipFrom(s *scope, from int, msg string) {
	for k := from; k < len(s.ke.Status.OperationResults); k++ {
		if res := &s.ke.Status.OperationResults[k]; res.Phase == kev1.OperationPending {
			res.Phase, res.Reason, res.Message = kev1.OperationSkipped, kev1.ReasonPrecedingFailed, msg
		}
	}
}

// finish ends the execution in a final phase.
func (r *Reconciler) finish(s *scope, phase kev1.Phase, reason, msg string) {
	st := &s.ke.Status
	t := metav1.NewTime(r.Now())
	st.Phase, st.Message, st.CompletionTime = phase, text.TruncateBytes(msg, maxMessage), &t
	s.finishReason = reason
	executionsTotal.WithLabelValues(string(phase)).Inc()
	eventType := corev1.EventTypeNormal
	if phase != kev1.PhaseCompleted {
		eventType = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(s.ke, nil, eventType, reason, "Execute", "%s", st.Message)
}

func setCondition(s *scope, typ string, ok bool, reason, msg string) {
	meta.SetStatusCondition(&s.ke.Status.Conditions, *condition(s, typ, ok, reason, msg))
}

func condition(s *scope, typ string, ok bool, reason, msg string) *metav1.Condition {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	return &metav1.Condition{Type: typ, Status: status, Reason: reason, Message: text.TruncateBytes(msg, maxMessage), ObservedGeneration: s.ke.Generation}
}

func executionTimeout(ke *kev1.KubernetesExecution) time.Duration {
	if t := ke.Spec.ExecutionConfig.Timeout; t != nil && t.Duration > 0 {
		return t.Duration
	}
	return defaultExecution
}
