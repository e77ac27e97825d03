package aianalysis

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
	"github.com/kubernaut/kubernaut/pkg/shared/skeleton"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// ApprovalRequestName is the deterministic name of an analysis's AIApprovalRequest.
func ApprovalRequestName(analysis string) string { return analysis + "-approval" }

// minHistorySamples is how many past remediations make a success rate count.
const minHistorySamples = 3

func (r *Reconciler) reconcilePhases(ctx context.Context, s *scope) error {
	st := &s.a.Status
	if st.Phase == "" || st.Phase == aiv1.PhasePending {
		now := metav1.NewTime(s.now)
		st.StartTime = &now
		st.Provider = r.Investigator.Name()
		st.Phase = aiv1.PhaseInvestigating
		st.Message = "investigating with the " + r.Investigator.Name() + " provider"
		if r.Investigator.Name() != investigator.ProviderBuiltin {
			// An LLM investigation takes minutes: show the phase before it starts.
			s.requeueAfter(time.Millisecond)
			return nil
		}
	}
	if st.Phase == aiv1.PhaseInvestigating {
		if err := r.investigate(ctx, s); err != nil {
			return err
		}
	}
	if st.Phase == aiv1.PhaseRecommending {
		if err := r.recommend(ctx, s); err != nil {
			return err
		}
	}
	if st.Phase == aiv1.PhaseApproving {
		return r.awaitDecision(ctx, s)
	}
	return nil
}

// investigate runs the provider through the guardrails and records the finding.
func (r *Reconciler) investigate(ctx context.Context, s *scope) error {
	a := s.a
	provider := r.Investigator.Name()
	policy, _, perr := r.Policy.Get(ctx)
	if perr != nil {
		log.FromContext(ctx).Error(perr, "Approval policy unusable; using the defaults")
	}
	req := investigator.Request{
		Signal: a.Spec.AnalysisRequest.AlertContext, Scope: a.Spec.AnalysisRequest.InvestigationScope,
		Now: s.now, AllowDrain: policy.AllowDrainNode, RepeatWindow: r.RepeatWindow,
	}
	start := time.Now()
	if req.RepeatWindow > 0 {
		req.Changes, req.ChangesUnknown = r.recentChanges(ctx, a, s.now)
		if req.ChangesUnknown != "" {
			historyUnavailableTotal.Inc()
			log.FromContext(ctx).Info("Kubernaut's recent changes to the target could not be read; a recommendation will need approval", "reason", req.ChangesUnknown)
		}
	}
	res, err := investigator.Run(ctx, r.Investigator, req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // shutting down: investigate again after the restart
		}
		investigationsTotal.WithLabelValues(provider, outcomeFailed).Inc()
		investigationDuration.WithLabelValues(provider).Observe(time.Since(start).Seconds())
		r.finish(s, aiv1.PhaseFailed, text.TruncateBytes("the "+provider+" provider failed: "+err.Error(), 1024))
		r.Recorder.Eventf(a, nil, corev1.EventTypeWarning, aiv1.ReasonProviderFailed, "Investigate", "%s", s.a.Status.Message)
		return nil
	}
	f := res.Finding
	if res.Repeat != nil {
		repeatsTotal.WithLabelValues(provider, res.Repeat.Action).Inc()
	}
	if a.Spec.AnalysisRequest.InvestigationScope.IncludeHistoricalPatterns && f.Outcome == aiv1.OutcomeActionRecommended {
		r.applyHistory(ctx, a.Spec.AnalysisRequest.AlertContext.SignalName, &f)
	}
	investigationDuration.WithLabelValues(provider).Observe(time.Since(start).Seconds())
	for _, ref := range res.Refusals {
		refusalsTotal.WithLabelValues(string(ref.Reason)).Inc()
	}
	if f.TokensUsed > 0 {
		tokensTotal.WithLabelValues(provider).Add(float64(f.TokensUsed))
	}
	st := &a.Status
	st.RootCause, st.InvestigationSummary, st.Evidence = f.RootCause, f.Summary, f.Evidence
	st.Confidence, st.RiskLevel, st.Outcome = f.Confidence, f.Risk, f.Outcome
	st.ManualReviewReason, st.Recommendations = f.ManualReviewReason, f.Recommendations
	st.Refusals, st.TokensUsed = res.Refusals, f.TokensUsed
	switch f.Outcome {
	case aiv1.OutcomeActionRecommended:
		investigationsTotal.WithLabelValues(provider, outcomeRecommended).Inc()
		confidenceHist.WithLabelValues(provider).Observe(f.Recommendations[0].Confidence)
		st.Phase = aiv1.PhaseRecommending
		st.Message = "recommending " + f.Recommendations[0].Action
	case aiv1.OutcomeNoActionRequired:
		investigationsTotal.WithLabelValues(provider, outcomeNoAction).Inc()
		r.finish(s, aiv1.PhaseCompleted, "no action required: "+f.RootCause)
		r.Recorder.Eventf(a, nil, corev1.EventTypeNormal, aiv1.ReasonNoActionRequired, "Investigate", "%s", st.Message)
	default:
		investigationsTotal.WithLabelValues(provider, outcomeManual).Inc()
		r.finish(s, aiv1.PhaseCompleted, "manual review required: "+f.ManualReviewReason)
		r.Recorder.Eventf(a, nil, corev1.EventTypeWarning, aiv1.ReasonManualReviewRequired, "Investigate", "%s", st.Message)
	}
	log.FromContext(ctx).Info("Investigated", "outcome", f.Outcome, "confidence", f.Confidence, "refusals", len(res.Refusals), "attempts", res.Attempts)
	return nil
}

// applyHistory blends datastorage's past success rate of each recommended action for this
// signal into its confidence and cites it; an unreachable datastorage is cited too.
func (r *Reconciler) applyHistory(ctx context.Context, signal string, f *investigator.Finding) {
	if r.History == nil {
		f.Evidence = appendEvidence(f.Evidence, "historical success rates were not consulted: no datastorage client is configured")
		return
	}
	for i := range f.Recommendations {
		rec := &f.Recommendations[i]
		eff, err := r.History.Effectiveness(ctx, signal, rec.Action)
		if err != nil {
			f.Evidence = appendEvidence(f.Evidence, text.TruncateBytes("historical success rates unavailable (datastorage unreachable: "+err.Error()+"); confidence is based on the current facts only", 1024))
			log.FromContext(ctx).Info("Datastorage unreachable; analysing without history", "error", err.Error())
			return
		}
		if eff.Total < minHistorySamples {
			f.Evidence = appendEvidence(f.Evidence, fmt.Sprintf("history: %s was used %d time(s) for %s, too few to weigh", rec.Action, eff.Total, signal))
			continue
		}
		rate := eff.SuccessRate
		rec.HistoricalSuccessRate = &rate
		before := rec.Confidence
		rec.Confidence = 0.7*rec.Confidence + 0.3*rate
		f.Evidence = appendEvidence(f.Evidence, fmt.Sprintf("history: %s succeeded in %d of %d past remediations of %s (%.0f%%); confidence %.2f → %.2f",
			rec.Action, eff.Successful, eff.Total, signal, rate*100, before, rec.Confidence))
		if i == 0 {
			f.Confidence = 0.7*f.Confidence + 0.3*rate
		}
	}
}

func appendEvidence(ev []string, line string) []string {
	if len(ev) >= 20 {
		ev = ev[:19]
	}
	return append(ev, line)
}

// recommend applies the approval policy: auto-approve, or create the approval request.
func (r *Reconciler) recommend(ctx context.Context, s *scope) error {
	a := s.a
	policy, version, perr := r.Policy.Get(ctx)
	if perr != nil && version == "" {
		return perr // the ConfigMap could not be read: try again rather than guess
	}
	f := investigator.Finding{Outcome: a.Status.Outcome, Recommendations: a.Status.Recommendations, Evidence: a.Status.Evidence}
	ac := a.Spec.AnalysisRequest.AlertContext
	env := ac.Environment
	why := policy.Requires(f, env, a.Status.Provider)
	why = append(why, policy.GitOpsRequires(f, ac.KubernetesContext, ac.Namespace)...)
	gated, earned := policy.Gate(ctx, f, env, r.TrackRecords, s.now)
	why = append(why, gated...)
	for _, line := range earned {
		a.Status.Evidence = appendEvidence(a.Status.Evidence, line)
	}
	if len(gated) > 0 {
		gateTotal.WithLabelValues(env, "person").Inc()
	} else if len(earned) > 0 {
		gateTotal.WithLabelValues(env, "earned").Inc()
	}
	if len(why) == 0 {
		approvalsTotal.WithLabelValues("not_required").Inc()
		a.Status.Approval = &aiv1.ApprovalStatus{Required: false}
		r.finish(s, aiv1.PhaseCompleted, "recommends "+a.Status.Recommendations[0].Action+" (no approval required by policy "+version+")")
		r.Recorder.Eventf(a, nil, corev1.EventTypeNormal, aiv1.ReasonAnalyzed, "Recommend", "%s", a.Status.Message)
		return nil
	}
	reason := text.TruncateBytes(strings.Join(why, "; "), 1024)
	ar, err := r.ensureApprovalRequest(ctx, a, reason, s.now.Add(policy.ApprovalTimeout.Duration))
	if err != nil {
		return err
	}
	a.Status.Approval = &aiv1.ApprovalStatus{Required: true, Reason: reason, ApprovalRequestRef: &common.ObjectReference{Name: ar.Name, Namespace: ar.Namespace}}
	a.Status.Phase = aiv1.PhaseApproving
	a.Status.Message = "awaiting a decision on " + ar.Name + " by " + ar.Spec.RequiredBy.UTC().Format(time.RFC3339) + ": " + reason
	r.Recorder.Eventf(a, ar, corev1.EventTypeNormal, aiv1.ReasonAwaitingDecision, "RequestApproval", "%s; decide with: %s",
		text.TruncateBytes(a.Status.Message, 400), notificationapi.DecisionCommand(ar.Namespace, ar.Name, notificationapi.DecisionApproved))
	return nil
}

func (r *Reconciler) ensureApprovalRequest(ctx context.Context, a *aiv1.AIAnalysis, reason string, requiredBy time.Time) (*aiv1.AIApprovalRequest, error) {
	top := a.Status.Recommendations[0]
	ar := &aiv1.AIApprovalRequest{
		ObjectMeta: metav1.ObjectMeta{Name: ApprovalRequestName(a.Name), Namespace: a.Namespace, Labels: map[string]string{}},
		Spec: aiv1.AIApprovalRequestSpec{
			AIAnalysisRef:         common.ObjectReference{Name: a.Name, Namespace: a.Namespace},
			RemediationRequestRef: a.Spec.RemediationRequestRef,
			Recommendation:        top,
			Confidence:            top.Confidence,
			Reason:                reason,
			RequiredBy:            metav1.NewTime(requiredBy.Truncate(time.Second)),
		},
	}
	for k, v := range a.Labels {
		if strings.HasPrefix(k, "kubernaut.io/") {
			ar.Labels[k] = v
		}
	}
	if err := controllerutil.SetControllerReference(a, ar, r.Client.Scheme()); err != nil {
		return nil, fmt.Errorf("owning %s: %w", ar.Name, err)
	}
	err := r.Client.Create(ctx, ar)
	if apierrors.IsAlreadyExists(err) {
		err = r.Client.Get(ctx, client.ObjectKeyFromObject(ar), ar)
	}
	if err != nil {
		return nil, fmt.Errorf("creating AIApprovalRequest %s for %s: %w", ar.Name, klog.KObj(a), err)
	}
	return ar, nil
}

// awaitDecision follows the approval request: approved completes, rejected or expired rejects.
func (r *Reconciler) awaitDecision(ctx context.Context, s *scope) error {
	a := s.a
	name := ApprovalRequestName(a.Name)
	if ap := a.Status.Approval; ap != nil && ap.ApprovalRequestRef != nil {
		name = ap.ApprovalRequestRef.Name
	}
	ar := &aiv1.AIApprovalRequest{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: a.Namespace, Name: name}, ar); err != nil {
		if apierrors.IsNotFound(err) {
			a.Status.Phase = aiv1.PhaseRecommending // deleted while pending: ask again
			return r.recommend(ctx, s)
		}
		return fmt.Errorf("reading AIApprovalRequest %s: %w", name, err)
	}
	if ar.Status.Decision == aiv1.DecisionNone {
		if left := ar.Spec.RequiredBy.Sub(s.now); left > 0 {
			if ar.Status.Phase == "" {
				if err := r.patchApproval(ctx, ar, func(st *aiv1.AIApprovalRequestStatus) { st.Phase = aiv1.ApprovalPhasePending }); err != nil {
					return err
				}
			}
			s.requeueAfter(left)
			return nil
		}
		who, err := r.identity(ctx)
		if err != nil {
			return err
		}
		now := metav1.NewTime(s.now)
		if err := r.patchApproval(ctx, ar, func(st *aiv1.AIApprovalRequestStatus) {
			st.Decision, st.DecidedBy, st.DecidedAt = aiv1.DecisionExpired, who, &now
			st.Message = "no decision before " + ar.Spec.RequiredBy.UTC().Format(time.RFC3339)
		}); err != nil {
			return err
		}
	}
	ap := a.Status.Approval
	if ap == nil {
		ap = &aiv1.ApprovalStatus{Required: true}
		a.Status.Approval = ap
	}
	ap.Decision, ap.DecidedBy, ap.DecidedAt = ar.Status.Decision, ar.Status.DecidedBy, ar.Status.DecidedAt
	approvalsTotal.WithLabelValues(string(ar.Status.Decision)).Inc()
	by := ar.Status.DecidedBy
	comment := ""
	if ar.Status.Message != "" {
		comment = ": " + ar.Status.Message
	}
	switch ar.Status.Decision {
	case aiv1.DecisionApproved:
		r.finish(s, aiv1.PhaseCompleted, text.TruncateBytes("approved by "+by+comment, 1024))
		r.Recorder.Eventf(a, ar, corev1.EventTypeNormal, aiv1.ReasonApproved, "Approve", "%s", a.Status.Message)
	case aiv1.DecisionRejected:
		r.finish(s, aiv1.PhaseRejected, text.TruncateBytes("rejected by "+by+comment, 1024))
		r.Recorder.Eventf(a, ar, corev1.EventTypeWarning, aiv1.ReasonRejected, "Reject", "%s", a.Status.Message)
	default:
		r.finish(s, aiv1.PhaseRejected, "the approval request expired without a decision")
		r.Recorder.Eventf(a, ar, corev1.EventTypeWarning, aiv1.ReasonApprovalExpired, "Expire", "%s", a.Status.Message)
	}
	if ar.Status.Phase != aiv1.ApprovalPhase(ar.Status.Decision) {
		return r.patchApproval(ctx, ar, func(st *aiv1.AIApprovalRequestStatus) { st.Phase = aiv1.ApprovalPhase(st.Decision) })
	}
	return nil
}

// patchApproval changes the approval request's status (phase, conditions, expiry only).
func (r *Reconciler) patchApproval(ctx context.Context, ar *aiv1.AIApprovalRequest, mutate func(*aiv1.AIApprovalRequestStatus)) error {
	p := skeleton.NewPatcher(r.Client, ar)
	mutate(&ar.Status)
	ready := metav1.Condition{Type: aiv1.ConditionReady, Status: metav1.ConditionFalse, Reason: aiv1.ReasonAwaitingDecision, Message: "awaiting a decision"}
	if ar.Status.Decision != aiv1.DecisionNone {
		ready = metav1.Condition{Type: aiv1.ConditionReady, Status: metav1.ConditionTrue, Reason: string(ar.Status.Decision), Message: "decided by " + ar.Status.DecidedBy}
		if ar.Status.Decision == aiv1.DecisionExpired {
			ready.Reason = aiv1.ReasonApprovalExpired
		}
	}
	ready.ObservedGeneration = ar.Generation
	meta.SetStatusCondition(&ar.Status.Conditions, ready)
	ar.Status.ObservedGeneration = ar.Generation
	// A person deciding in between makes this patch invalid (a decision is immutable): the
	// error requeues, and the next reconcile reads their decision.
	return p.Patch(ctx)
}

// finish ends the analysis in phase with message.
func (r *Reconciler) finish(s *scope, phase aiv1.Phase, message string) {
	now := metav1.NewTime(s.now)
	s.a.Status.Phase = phase
	s.a.Status.Message = text.TruncateBytes(message, 1024)
	s.a.Status.CompletionTime = &now
}
