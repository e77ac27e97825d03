package orchestrator

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"

	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// Reasons of the orchestrator's own decisions (beyond those declared in apis/remediation).
const (
	reasonManualReview = "ManualReviewRequired"
	// reasonUnresolvedTarget: the gateway could not resolve the alert's labels to an object to act on.
	reasonUnresolvedTarget = "UnresolvedTarget"
	reasonNoAction         = "NoActionRequired"
	reasonDryRun           = "DryRun"
	reasonIneffective      = "Ineffective"
	reasonOverallTimout    = "OverallTimeout"
)

// reconcilePhase runs the step of the current phase.
func (r *Reconciler) reconcilePhase(ctx context.Context, s *scope) error {
	st := &s.rr.Status
	if st.OverallPhase.IsTerminal() {
		return nil
	}
	if r.checkTimeouts(ctx, s) {
		return nil
	}
	switch st.OverallPhase {
	case "", remediationv1.PhasePending, remediationv1.PhaseBlocked:
		return r.reconcileStart(ctx, s)
	case remediationv1.PhaseProcessing:
		return r.reconcileProcessing(ctx, s)
	case remediationv1.PhaseAnalyzing, remediationv1.PhaseAwaitingApproval:
		return r.reconcileAnalyzing(ctx, s)
	case remediationv1.PhasePlanning:
		return r.reconcilePlanning(ctx, s)
	case remediationv1.PhaseExecuting:
		return r.reconcileExecuting(ctx, s)
	case remediationv1.PhaseVerifying:
		return r.reconcileVerifying(ctx, s)
	}
	return nil
}

// transition moves the request to phase, queues its audit record and observes the old phase's duration.
func (r *Reconciler) transition(s *scope, phase remediationv1.Phase, message string) {
	st := &s.rr.Status
	if st.OverallPhase == phase {
		st.Message = message
		return
	}
	if st.PhaseStartTime != nil && st.OverallPhase != "" {
		phaseDuration.WithLabelValues(string(st.OverallPhase)).Observe(s.now.Sub(st.PhaseStartTime.Time).Seconds())
	}
	now := metav1.NewTime(s.now)
	st.OverallPhase = phase
	st.PhaseStartTime = &now
	st.Message = text.Truncate(message, 1024)
	st.Audit.Sequence++
	st.Audit.PendingPhases = append(st.Audit.PendingPhases, remediationv1.AuditPendingPhase{Phase: phase, Sequence: st.Audit.Sequence, Time: now})
	if n := len(st.Audit.PendingPhases); n > 32 { // the CRD bound; a request has at most 8 phase changes, so never reached
		st.Audit.PendingPhases = st.Audit.PendingPhases[n-32:]
	}
	st.Audit.Pending = true
	if phase.IsTerminal() {
		st.CompletionTime = &now
		remediationsTotal.WithLabelValues(string(phase), string(st.Outcome)).Inc()
	}
}

// finish ends the request in a terminal phase with an outcome.
func (r *Reconciler) finish(s *scope, phase remediationv1.Phase, outcome remediationv1.Outcome, reason, message string) {
	s.rr.Status.Outcome = outcome
	r.transition(s, phase, message)
	evType := corev1.EventTypeNormal
	if phase != remediationv1.PhaseCompleted || outcome == remediationv1.OutcomeManualReviewRequired || outcome == remediationv1.OutcomeIneffective {
		evType = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(s.rr, nil, evType, reason, string(phase), "%s", text.Truncate(message, 1024))
}

// fail ends the request as Failed because a child failed (or the recommendation was rejected) in the current phase.
func (r *Reconciler) fail(s *scope, reason, message string, outcome remediationv1.Outcome) {
	s.rr.Status.FailedPhase = s.rr.Status.OverallPhase
	s.rr.Status.FailureReason = text.Truncate(message, 1024)
	r.finish(s, remediationv1.PhaseFailed, outcome, reason, message)
}

// phaseTimeout is the timeout of the current phase, from the request's overrides or the defaults.
func (r *Reconciler) phaseTimeout(rr *remediationv1.RemediationRequest, phase remediationv1.Phase) time.Duration {
	t := r.Config.Timeouts
	o := rr.Spec.Timeouts
	pick := func(override *metav1.Duration, def time.Duration) time.Duration {
		if override != nil && override.Duration > 0 {
			return override.Duration
		}
		return def
	}
	if o == nil {
		o = &remediationv1.Timeouts{}
	}
	switch phase {
	case remediationv1.PhaseProcessing:
		return pick(o.Processing, t.Processing)
	case remediationv1.PhaseAnalyzing:
		return pick(o.Analysis, t.Analysis)
	case remediationv1.PhaseAwaitingApproval:
		return pick(o.AwaitingApproval, t.AwaitingApproval)
	case remediationv1.PhasePlanning:
		return pick(o.Planning, t.Planning)
	case remediationv1.PhaseExecuting:
		return pick(o.Execution, t.Execution)
	case "overall":
		return pick(o.Overall, t.Overall)
	}
	return 0
}

// checkTimeouts moves the request to TimedOut when its phase or overall deadline passed, and
// otherwise schedules a requeue at the nearest deadline.
func (r *Reconciler) checkTimeouts(ctx context.Context, s *scope) bool {
	st := &s.rr.Status
	phase := st.OverallPhase
	// The overall deadline bounds the work, not the verification that follows it.
	if st.StartTime != nil && phase != remediationv1.PhaseVerifying {
		overall := r.phaseTimeout(s.rr, "overall")
		if left := st.StartTime.Add(overall).Sub(s.now); left <= 0 {
			r.timeOut(ctx, s, phase, overall, true)
			return true
		} else {
			s.requeueAfter(left)
		}
	}
	d := r.phaseTimeout(s.rr, phase)
	// An execution whose plan is estimated longer (a drain's ten minutes) gets its own timeout,
	// unless the request sets its own execution timeout.
	explicit := s.rr.Spec.Timeouts != nil && s.rr.Spec.Timeouts.Execution != nil && s.rr.Spec.Timeouts.Execution.Duration > 0
	if phase == remediationv1.PhaseExecuting && !explicit && s.ke != nil && s.ke.Spec.ExecutionConfig.Timeout != nil && d > 0 && s.ke.Spec.ExecutionConfig.Timeout.Duration > d {
		d = s.ke.Spec.ExecutionConfig.Timeout.Duration
	}
	if d > 0 && st.PhaseStartTime != nil {
		if left := st.PhaseStartTime.Add(d).Sub(s.now); left <= 0 {
			r.timeOut(ctx, s, phase, d, false)
			return true
		} else {
			s.requeueAfter(left)
		}
	}
	return false
}

func (r *Reconciler) timeOut(ctx context.Context, s *scope, phase remediationv1.Phase, d time.Duration, overall bool) {
	st := &s.rr.Status
	st.TimeoutPhase = phase
	reason := remediationv1.ReasonPhaseTimedOut
	msg := fmt.Sprintf("phase %s exceeded its timeout of %s", phase, d)
	if overall {
		reason = reasonOverallTimout
		msg = fmt.Sprintf("remediation exceeded its overall timeout of %s in phase %s", d, phase)
	}
	st.FailureReason = msg
	timeoutsTotal.WithLabelValues(string(phase)).Inc()
	log.FromContext(ctx).Info("Remediation timed out", "timeoutPhase", phase, "timeout", d)
	r.finish(s, remediationv1.PhaseTimedOut, "", reason, msg)
}

// reconcileStart admits a new (or Blocked) request through the safety valves and creates its RemediationProcessing.
func (r *Reconciler) reconcileStart(ctx context.Context, s *scope) error {
	if tr := s.rr.Spec.TargetResolution; tr != nil && tr.UnresolvedReason != "" {
		// Nothing to act on: a person is told why, and nothing is enriched, analysed or changed.
		unresolvedTotal.Inc()
		now := metav1.NewTime(s.now)
		s.rr.Status.StartTime = &now
		r.finish(s, remediationv1.PhaseCompleted, remediationv1.OutcomeManualReviewRequired, reasonUnresolvedTarget,
			"the alert names no target Kubernaut can act on: "+tr.UnresolvedReason+"; a person must review it")
		return nil
	}
	if blocked, reason, msg, retry := r.checkValves(ctx, s); blocked {
		if s.rr.Status.OverallPhase != remediationv1.PhaseBlocked || s.rr.Status.Message != msg {
			if s.rr.Status.OverallPhase != remediationv1.PhaseBlocked {
				blockedTotal.WithLabelValues(reason).Inc()
				r.Recorder.Eventf(s.rr, nil, corev1.EventTypeWarning, reason, "Block", "%s", msg)
			}
			r.transition(s, remediationv1.PhaseBlocked, msg)
		}
		s.requeueAfter(retry)
		return nil
	}
	full := &remediationv1.RemediationRequest{}
	if err := r.APIReader.Get(ctx, keyOf(s.rr), full); err != nil {
		r.admission.release(keyOf(s.rr))
		return fmt.Errorf("reading the full request: %w", err)
	}
	ref, err := r.ensureChild(ctx, s.rr, r.buildProcessing(full))
	if err != nil {
		r.admission.release(keyOf(s.rr))
		return err
	}
	now := metav1.NewTime(s.now)
	s.rr.Status.StartTime = &now
	s.rr.Status.RemediationProcessingRef = ref
	r.transition(s, remediationv1.PhaseProcessing, "enriching and classifying the signal")
	s.requeueAfter(r.phaseTimeout(s.rr, remediationv1.PhaseProcessing))
	return nil
}

func (r *Reconciler) reconcileProcessing(ctx context.Context, s *scope) error {
	if s.rp == nil {
		full := &remediationv1.RemediationRequest{}
		if err := r.APIReader.Get(ctx, keyOf(s.rr), full); err != nil {
			return fmt.Errorf("reading the full request: %w", err)
		}
		ref, err := r.ensureChild(ctx, s.rr, r.buildProcessing(full))
		s.rr.Status.RemediationProcessingRef = ref
		return err
	}
	switch s.rp.Status.Phase {
	case processingv1.PhaseCompleted:
		if s.rp.Status.EnrichedSignal == nil {
			r.fail(s, remediationv1.ReasonChildFailed, "RemediationProcessing completed without an enriched signal", "")
			return nil
		}
		// A finished processing was read from the API server whole (it has left the cache), so
		// it carries the Kubernetes context the cache would drop; read it only when it lacks one.
		full := s.rp
		if full.Status.EnrichedSignal.KubernetesContext == nil {
			full = &processingv1.RemediationProcessing{}
			if err := r.APIReader.Get(ctx, keyOf(s.rp), full); err != nil {
				return fmt.Errorf("reading %s: %w", s.rp.Name, err)
			}
		}
		ref, err := r.ensureChild(ctx, s.rr, r.buildAnalysis(s.rr, full))
		if err != nil {
			return err
		}
		s.rr.Status.AIAnalysisRef = ref
		r.transition(s, remediationv1.PhaseAnalyzing, "investigating the root cause")
		s.requeueAfter(r.phaseTimeout(s.rr, remediationv1.PhaseAnalyzing))
	case processingv1.PhaseFailed:
		r.fail(s, remediationv1.ReasonChildFailed, "RemediationProcessing failed: "+s.rp.Status.Message, "")
	}
	return nil
}

func (r *Reconciler) reconcileAnalyzing(ctx context.Context, s *scope) error {
	if s.aia == nil {
		return nil
	}
	a := s.aia
	switch a.Status.Phase {
	case aiv1.PhaseApproving:
		if s.rr.Status.OverallPhase == remediationv1.PhaseAnalyzing {
			if err := r.ensureApprovalNotification(ctx, s); err != nil {
				return err
			}
			reason := "approval required"
			if a.Status.Approval != nil && a.Status.Approval.Reason != "" {
				reason = "approval required: " + a.Status.Approval.Reason
			}
			r.transition(s, remediationv1.PhaseAwaitingApproval, reason)
			s.requeueAfter(r.phaseTimeout(s.rr, remediationv1.PhaseAwaitingApproval))
		}
	case aiv1.PhaseCompleted:
		return r.analysisCompleted(ctx, s)
	case aiv1.PhaseFailed:
		r.fail(s, remediationv1.ReasonChildFailed, "AIAnalysis failed: "+a.Status.Message, "")
	case aiv1.PhaseRejected:
		if a.Status.Approval != nil && a.Status.Approval.Decision == aiv1.DecisionExpired {
			d := r.phaseTimeout(s.rr, remediationv1.PhaseAwaitingApproval)
			r.timeOut(ctx, s, remediationv1.PhaseAwaitingApproval, d, false)
			return nil
		}
		msg := "the recommendation was rejected"
		if a.Status.Approval != nil && a.Status.Approval.DecidedBy != "" {
			msg += " by " + a.Status.Approval.DecidedBy
		}
		if a.Status.Message != "" {
			msg += ": " + a.Status.Message
		}
		r.fail(s, remediationv1.ReasonRejected, msg, remediationv1.OutcomeRejected)
	}
	return nil
}

// noActionRequired reports whether the analysis concluded that nothing needs to be done.
func noActionRequired(a *aiv1.AIAnalysis) bool {
	for _, c := range a.Status.Conditions {
		if c.Type == aiv1.ConditionReady && c.Reason == aiv1.ReasonNoActionRequired {
			return true
		}
	}
	return false
}

func (r *Reconciler) analysisCompleted(ctx context.Context, s *scope) error {
	a := s.aia
	if noActionRequired(a) {
		r.finish(s, remediationv1.PhaseCompleted, remediationv1.OutcomeNoActionRequired, reasonNoAction, "the analysis found no action required")
		return nil
	}
	if len(a.Status.Recommendations) == 0 || len(a.Status.Recommendations[0].WorkflowSteps) == 0 {
		r.finish(s, remediationv1.PhaseCompleted, remediationv1.OutcomeManualReviewRequired, reasonManualReview,
			"the analysis produced no executable recommendation; a person must review it")
		return nil
	}
	ref, err := r.ensureChild(ctx, s.rr, r.buildWorkflow(s.rr, a))
	if err != nil {
		return err
	}
	s.rr.Status.WorkflowExecutionRef = ref
	r.transition(s, remediationv1.PhasePlanning, "planning the workflow of recommendation "+a.Status.Recommendations[0].ID)
	s.requeueAfter(r.phaseTimeout(s.rr, remediationv1.PhasePlanning))
	return nil
}

func (r *Reconciler) reconcilePlanning(ctx context.Context, s *scope) error {
	if s.wfe == nil {
		return nil
	}
	switch s.wfe.Status.Phase {
	case workflowv1.PhaseCompleted:
		if len(s.wfe.Status.Operations) == 0 {
			r.fail(s, remediationv1.ReasonChildFailed, "WorkflowExecution completed without operations", "")
			return nil
		}
		ref, err := r.ensureChild(ctx, s.rr, r.buildExecution(s.rr, s.wfe))
		if err != nil {
			return err
		}
		s.rr.Status.KubernetesExecutionRef = ref
		msg := "executing the operations"
		if r.Config.DryRun {
			msg = "dry-running the operations"
		}
		r.transition(s, remediationv1.PhaseExecuting, msg)
		s.requeueAfter(r.phaseTimeout(s.rr, remediationv1.PhaseExecuting))
	case workflowv1.PhaseFailed:
		if c := apimeta.FindStatusCondition(s.wfe.Status.Conditions, workflowv1.ConditionReady); c != nil && c.Reason == workflowv1.ReasonStaleTarget {
			r.finish(s, remediationv1.PhaseCompleted, remediationv1.OutcomeManualReviewRequired, reasonManualReview,
				"the workflow was not planned: "+s.wfe.Status.Message)
			return nil
		}
		r.fail(s, remediationv1.ReasonChildFailed, "WorkflowExecution failed: "+s.wfe.Status.Message, "")
	}
	return nil
}

func (r *Reconciler) reconcileExecuting(_ context.Context, s *scope) error {
	if s.ke == nil {
		return nil
	}
	switch s.ke.Status.Phase {
	case kev1.PhaseCompleted:
		if s.ke.Spec.ExecutionConfig.DryRun {
			r.finish(s, remediationv1.PhaseCompleted, remediationv1.OutcomeDryRun, reasonDryRun, "dry run: the operations were validated and nothing was changed")
			return nil
		}
		r.startVerifying(s)
	case kev1.PhaseFailed, kev1.PhaseRolledBack:
		if op, ok := manualReviewRefusal(s.ke); ok {
			r.finish(s, remediationv1.PhaseCompleted, remediationv1.OutcomeManualReviewRequired, reasonManualReview,
				fmt.Sprintf("the executor refused operation %s (%s): %s; nothing was changed by it, a person must review it", op.Name, op.Reason, op.Message))
			return nil
		}
		r.fail(s, remediationv1.ReasonChildFailed, fmt.Sprintf("KubernetesExecution %s: %s", strings.ToLower(string(s.ke.Status.Phase)), s.ke.Status.Message), "")
	}
	return nil
}

// manualReviewRefusal finds an operation the executor refused for a reason a person must look at
// (kev1.ManualReviewReasons: the target changed since approval, a broken chain, a spent budget).
func manualReviewRefusal(ke *kev1.KubernetesExecution) (kev1.OperationResult, bool) {
	for _, op := range ke.Status.OperationResults {
		if slices.Contains(kev1.ManualReviewReasons, op.Reason) {
			return op, true
		}
	}
	return kev1.OperationResult{}, false
}

// setConditions computes Ready and Audited from the status in one place.
func (r *Reconciler) setConditions(s *scope) {
	st := &s.rr.Status
	ready := metav1.Condition{Type: remediationv1.ConditionReady, Status: metav1.ConditionFalse, Reason: remediationv1.ReasonInProgress, Message: st.Message, ObservedGeneration: s.rr.Generation}
	switch st.OverallPhase {
	case remediationv1.PhaseCompleted:
		switch st.Outcome {
		case remediationv1.OutcomeManualReviewRequired:
			ready.Reason = reasonManualReview
		case remediationv1.OutcomeIneffective:
			ready.Reason = reasonIneffective
		case remediationv1.OutcomeInconclusive:
			ready.Status, ready.Reason = metav1.ConditionTrue, reasonInconclusive
		case remediationv1.OutcomeNoActionRequired:
			ready.Status, ready.Reason = metav1.ConditionTrue, reasonNoAction
		case remediationv1.OutcomeDryRun:
			ready.Status, ready.Reason = metav1.ConditionTrue, reasonDryRun
		default:
			ready.Status, ready.Reason = metav1.ConditionTrue, remediationv1.ReasonRemediated
		}
	case remediationv1.PhaseFailed:
		ready.Reason = remediationv1.ReasonChildFailed
		if st.Outcome == remediationv1.OutcomeRejected {
			ready.Reason = remediationv1.ReasonRejected
		}
		if old := apimeta.FindStatusCondition(st.Conditions, remediationv1.ConditionReady); s.childInvalid || (old != nil && old.Reason == remediationv1.ReasonChildInvalid) {
			ready.Reason = remediationv1.ReasonChildInvalid // kept by the later reconciles of the failed request
		}
	case remediationv1.PhaseTimedOut:
		ready.Reason = remediationv1.ReasonPhaseTimedOut
	case remediationv1.PhaseBlocked:
		ready.Reason = remediationv1.ReasonConcurrencyLimit
		if strings.Contains(st.Message, "consecutive") {
			ready.Reason = remediationv1.ReasonConsecutiveFailures
		}
	}
	ready.Message = text.Truncate(ready.Message, 1024)
	setCondition(&st.Conditions, ready, s.now)
	audited := metav1.Condition{Type: remediationv1.ConditionAudited, Status: metav1.ConditionTrue, Reason: remediationv1.ReasonAuditAcknowledged,
		Message: "datastorage acknowledged phase " + string(st.Audit.LastAcknowledgedPhase), ObservedGeneration: s.rr.Generation}
	if len(st.Audit.PendingPhases) > 0 {
		audited.Status, audited.Reason = metav1.ConditionFalse, remediationv1.ReasonAuditPending
		audited.Message = text.Truncate(fmt.Sprintf("%d phase change(s) waiting for datastorage: %s", len(st.Audit.PendingPhases), st.Audit.LastError), 1024)
	}
	if st.OverallPhase == "" {
		return
	}
	setCondition(&st.Conditions, audited, s.now)
}

// setCondition sets c in conds, keeping lastTransitionTime when the status did not change.
func setCondition(conds *[]metav1.Condition, c metav1.Condition, now time.Time) {
	for i := range *conds {
		old := &(*conds)[i]
		if old.Type != c.Type {
			continue
		}
		if old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
		} else {
			c.LastTransitionTime = metav1.NewTime(now)
		}
		*old = c
		return
	}
	c.LastTransitionTime = metav1.NewTime(now)
	*conds = append(*conds, c)
}

func sortByCreation(items []remediationv1.RemediationRequest) {
	sort.SliceStable(items, func(i, j int) bool {
		ti, tj := items[i].CreationTimestamp, items[j].CreationTimestamp
		if ti.Equal(&tj) {
			return items[i].Name < items[j].Name
		}
		return ti.Before(&tj)
	})
}
