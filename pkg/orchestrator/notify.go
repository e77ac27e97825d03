package orchestrator

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/httpclient"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"

	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// ApprovalChannel is the Slack channel approval requests go to.
const ApprovalChannel = "#kubernaut-approvals"

// EscalatingController names the orchestrator in escalations.
const EscalatingController = "remediation-orchestrator"

func hasRef(refs []common.ObjectReference, name string) bool {
	for _, r := range refs {
		if r.Name == name {
			return true
		}
	}
	return false
}

// notificationMeta labels a NotificationRequest with its type, so the orchestrator's cache can
// leave out the completion notifications (one per finished request) that nothing follows up.
func notificationMeta(rr *remediationv1.RemediationRequest, name string, typ notificationv1.Type) metav1.ObjectMeta {
	m := childMeta(rr, name)
	m.Labels[notificationv1.LabelNotificationType] = string(typ)
	return m
}

func (r *Reconciler) ensureNotification(ctx context.Context, s *scope, nr *notificationv1.NotificationRequest) error {
	if hasRef(s.rr.Status.NotificationRequestRefs, nr.Name) {
		return nil
	}
	ref, err := r.ensureChild(ctx, s.rr, nr)
	if err != nil {
		return err
	}
	if len(s.rr.Status.NotificationRequestRefs) < 16 {
		s.rr.Status.NotificationRequestRefs = append(s.rr.Status.NotificationRequestRefs, *ref)
	}
	return nil
}

// ensureApprovalNotification creates the BR-ORCH-001 approval NotificationRequest.
func (r *Reconciler) ensureApprovalNotification(ctx context.Context, s *scope) error {
	name := approvalName(s.rr.Name)
	if hasRef(s.rr.Status.NotificationRequestRefs, name) {
		return nil
	}
	nr := buildApprovalNotification(s.rr, s.aia)
	if err := r.ensureNotification(ctx, s, nr); err != nil {
		return err
	}
	key := keyOf(s.rr)
	if seen, ok := r.approvingSeen.LoadAndDelete(key); ok {
		approvalLatency.Observe(time.Since(seen.(time.Time)).Seconds())
	}
	log.FromContext(ctx).Info("Approval requested", "notification", name, "aiAnalysis", s.aia.Name)
	return nil
}

func buildApprovalNotification(rr *remediationv1.RemediationRequest, a *aiv1.AIAnalysis) *notificationv1.NotificationRequest {
	reason := "the recommendation needs a human decision"
	approvalReq := ""
	if a.Status.Approval != nil {
		if a.Status.Approval.Reason != "" {
			reason = a.Status.Approval.Reason
		}
		if a.Status.Approval.ApprovalRequestRef != nil {
			approvalReq = a.Status.Approval.ApprovalRequestRef.Name
		}
	}
	confidence, action := a.Status.Confidence, ""
	if len(a.Status.Recommendations) > 0 {
		action = a.Status.Recommendations[0].Action
		if confidence == 0 {
			confidence = a.Status.Recommendations[0].Confidence
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Remediation %s for %s (%s, %s, %s) on %s/%s %s needs approval.\n\n",
		rr.Name, rr.Spec.SignalName, rr.Spec.Severity, rr.Spec.Environment, rr.Spec.Priority,
		rr.Spec.TargetResource.Kind, rr.Spec.TargetResource.Namespace, rr.Spec.TargetResource.Name)
	fmt.Fprintf(&b, "Investigation summary:\n%s\n", orNone(a.Status.InvestigationSummary))
	if a.Status.RootCause != "" {
		fmt.Fprintf(&b, "\nRoot cause: %s\n", a.Status.RootCause)
	}
	b.WriteString("\nEvidence:\n")
	if len(a.Status.Evidence) == 0 {
		b.WriteString("- (none)\n")
	}
	for _, e := range a.Status.Evidence {
		fmt.Fprintf(&b, "- %s\n", e)
	}
	b.WriteString("\nRecommended action:\n")
	if len(a.Status.Recommendations) == 0 {
		b.WriteString("- (none)\n")
	}
	for i, rec := range a.Status.Recommendations {
		if i == 1 {
			b.WriteString("\nAlternatives:\n")
		}
		fmt.Fprintf(&b, "- %s (confidence %.2f, risk %s): %s", rec.Action, rec.Confidence, rec.RiskLevel, rec.Description)
		if rec.Rationale != "" {
			fmt.Fprintf(&b, " — %s", rec.Rationale)
		}
		b.WriteString("\n")
	}
	if len(a.Status.Recommendations) < 2 {
		b.WriteString("\nAlternatives:\n- (none)\n")
	}
	fmt.Fprintf(&b, "\nWhy approval is required: %s\n", reason)
	if approvalReq != "" {
		fmt.Fprintf(&b, "\nTo approve:\n  %s\nTo reject:\n  %s\n",
			notificationapi.DecisionCommand(rr.Namespace, approvalReq, notificationapi.DecisionApproved),
			notificationapi.DecisionCommand(rr.Namespace, approvalReq, notificationapi.DecisionRejected))
	}
	ref := parentRef(rr)
	nr := &notificationv1.NotificationRequest{
		ObjectMeta: notificationMeta(rr, approvalName(rr.Name), notificationv1.TypeApproval),
		Spec: notificationv1.NotificationRequestSpec{
			RemediationRequestRef: &ref,
			Type:                  notificationv1.TypeApproval,
			Subject:               text.Truncate("🚨 Approval Required: "+reason, 500),
			Body:                  text.Truncate(b.String(), 65536),
			Priority:              notificationv1.PriorityHigh,
			Channels:              []notificationv1.Channel{notificationv1.ChannelSlack, notificationv1.ChannelConsole},
			Recipients:            []notificationv1.Recipient{{Channel: notificationv1.ChannelSlack, Address: ApprovalChannel}},
			Metadata: notificationMetadata(rr, map[string]string{
				notificationapi.MetaAIAnalysis:        a.Name,
				notificationapi.MetaApprovalRequest:   approvalReq,
				notificationapi.MetaRecommendedAction: action,
				notificationapi.MetaConfidence:        strconv.FormatFloat(confidence, 'f', 2, 64),
			}),
		},
	}
	return nr
}

// notificationMetadata is the metadata of every NotificationRequest the orchestrator creates:
// the request and its signal (the keys the notification service shows and routes on, from
// notificationapi), plus extra; empty values are left out.
func notificationMetadata(rr *remediationv1.RemediationRequest, extra map[string]string) map[string]string {
	t := rr.Spec.TargetResource
	resource := t.Kind + "/" + t.Name
	if t.Namespace != "" {
		resource = t.Kind + "/" + t.Namespace + "/" + t.Name
	}
	m := map[string]string{
		notificationapi.MetaRemediationRequest: rr.Name,
		notificationapi.MetaSignalFingerprint:  rr.Spec.SignalFingerprint,
		notificationapi.MetaSignalName:         rr.Spec.SignalName,
		notificationapi.MetaSeverity:           string(rr.Spec.Severity),
		notificationapi.MetaEnvironment:        string(rr.Spec.Environment),
		notificationapi.MetaPriority:           string(rr.Spec.Priority),
		notificationapi.MetaNamespace:          t.Namespace,
		notificationapi.MetaResource:           resource,
	}
	for k, v := range extra {
		m[k] = v
	}
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
	return m
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// buildOutcomeNotification is the completion (or manual-review) NotificationRequest of a Completed request.
func buildOutcomeNotification(rr *remediationv1.RemediationRequest) *notificationv1.NotificationRequest {
	st := rr.Status
	typ, name, prio := notificationv1.TypeCompletion, completionName(rr.Name), notificationv1.PriorityLow
	subject := fmt.Sprintf("✅ Remediation %s: %s on %s/%s", strings.ToLower(string(st.Outcome)), rr.Spec.SignalName, rr.Spec.TargetResource.Kind, rr.Spec.TargetResource.Name)
	switch st.Outcome {
	case remediationv1.OutcomeManualReviewRequired:
		typ, name, prio = notificationv1.TypeManualReview, manualReviewName(rr.Name), notificationv1.PriorityHigh
		subject = fmt.Sprintf("👀 Manual review required: %s on %s/%s", rr.Spec.SignalName, rr.Spec.TargetResource.Kind, rr.Spec.TargetResource.Name)
	case remediationv1.OutcomeIneffective:
		// The change did not help: the on-call is told, with the evidence.
		prio = notificationv1.PriorityHigh
		subject = fmt.Sprintf("⚠️ Remediation ineffective: %s on %s/%s", rr.Spec.SignalName, rr.Spec.TargetResource.Kind, rr.Spec.TargetResource.Name)
	case remediationv1.OutcomeInconclusive:
		subject = fmt.Sprintf("❔ Remediation inconclusive: %s on %s/%s", rr.Spec.SignalName, rr.Spec.TargetResource.Kind, rr.Spec.TargetResource.Name)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Remediation %s of %s (%s, %s, %s) on %s/%s %s ended: %s.\n%s\n",
		rr.Name, rr.Spec.SignalName, rr.Spec.Severity, rr.Spec.Environment, rr.Spec.Priority,
		rr.Spec.TargetResource.Kind, rr.Spec.TargetResource.Namespace, rr.Spec.TargetResource.Name, st.Outcome, st.Message)
	if st.StartTime != nil && st.CompletionTime != nil {
		fmt.Fprintf(&b, "Duration: %s\n", st.CompletionTime.Sub(st.StartTime.Time).Round(time.Second))
	}
	writeVerification(&b, st.Verification)
	ref := parentRef(rr)
	return &notificationv1.NotificationRequest{
		ObjectMeta: notificationMeta(rr, name, typ),
		Spec: notificationv1.NotificationRequestSpec{
			RemediationRequestRef: &ref,
			Type:                  typ,
			Subject:               text.Truncate(subject, 500),
			Body:                  text.Truncate(b.String(), 65536),
			Priority:              prio,
			Channels:              []notificationv1.Channel{notificationv1.ChannelSlack, notificationv1.ChannelConsole},
			Metadata:              notificationMetadata(rr, map[string]string{notificationapi.MetaOutcome: string(st.Outcome)}),
		},
	}
}

// escalationPhaseName renders a phase for the escalation API and notification names (awaiting-approval).
func escalationPhaseName(p remediationv1.Phase) string {
	var b strings.Builder
	for i, c := range string(p) {
		if c >= 'A' && c <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			c += 'a' - 'A'
		}
		b.WriteRune(c)
	}
	return b.String()
}

// escalationFor says whether a terminal request needs an escalation, and for which phase and reason.
func escalationFor(rr *remediationv1.RemediationRequest) (phase remediationv1.Phase, reason string, ok bool) {
	st := rr.Status
	switch st.OverallPhase {
	case remediationv1.PhaseTimedOut:
		return st.TimeoutPhase, "timeout", true
	case remediationv1.PhaseFailed:
		if st.Outcome == remediationv1.OutcomeRejected {
			return st.FailedPhase, "rejection", true
		}
		return st.FailedPhase, "failure", true
	}
	return "", "", false
}

func escalated(rr *remediationv1.RemediationRequest, phase remediationv1.Phase) bool {
	for _, e := range rr.Status.Escalations {
		if e.Phase == string(phase) {
			return true
		}
	}
	return false
}

// buildEscalation fills every REQUIRED field of the seed's EscalationRequest.
func (r *Reconciler) buildEscalation(rr *remediationv1.RemediationRequest, phase remediationv1.Phase, reason string, now time.Time) notificationapi.EscalationRequest {
	st := rr.Status
	res := notificationapi.ResourceIdentifier{Kind: rr.Spec.TargetResource.Kind, Name: rr.Spec.TargetResource.Name, Namespace: rr.Spec.TargetResource.Namespace}
	ns := rr.Spec.TargetResource.Namespace
	var amURL, grafanaURL string
	if pd := rr.Spec.ProviderData; pd != nil {
		if pd.Namespace != "" {
			ns = pd.Namespace
		}
		if pd.Resource != nil && pd.Resource.Name != "" {
			res = notificationapi.ResourceIdentifier{Kind: pd.Resource.Kind, Name: pd.Resource.Name, Namespace: pd.Resource.Namespace}
		}
		amURL, grafanaURL = pd.AlertmanagerURL, pd.GrafanaURL
	}
	details := &notificationapi.EscalationDetails{Phase: escalationPhaseName(phase), RetryCount: int(st.RetryCount), FailureReason: st.FailureReason}
	if reason == "timeout" {
		details.TimeoutDuration = r.phaseTimeout(rr, phase).String()
		if strings.Contains(st.FailureReason, "overall") {
			details.TimeoutDuration = r.phaseTimeout(rr, "overall").String()
		}
	}
	return notificationapi.EscalationRequest{
		RemediationRequestName:      rr.Name,
		RemediationRequestNamespace: rr.Namespace,
		EscalatingController:        EscalatingController,
		AlertFingerprint:            rr.Spec.SignalFingerprint,
		AlertName:                   rr.Spec.SignalName,
		Severity:                    string(rr.Spec.Severity),
		Environment:                 string(rr.Spec.Environment),
		Priority:                    string(rr.Spec.Priority),
		SignalType:                  string(rr.Spec.SignalType),
		Namespace:                   ns,
		Resource:                    res,
		EscalationReason:            reason,
		EscalationPhase:             escalationPhaseName(phase),
		EscalationTime:              now.UTC(),
		EscalationDetails:           details,
		AlertFiringTime:             rr.Spec.FiringTime.UTC(),
		AlertReceivedTime:           rr.Spec.ReceivedTime.UTC(),
		RemediationDuration:         now.Sub(rr.CreationTimestamp.Time).Round(time.Second).String(),
		Channels:                    notificationapi.DetermineChannels(string(rr.Spec.Priority)),
		Urgency:                     notificationapi.MapPriorityToUrgency(string(rr.Spec.Priority)),
		AlertmanagerURL:             amURL,
		GrafanaURL:                  grafanaURL,
	}
}

// escalate sends the request's escalation once; a failure is returned so the request retries with backoff.
func (r *Reconciler) escalate(ctx context.Context, s *scope) error {
	phase, reason, ok := escalationFor(s.rr)
	if !ok || escalated(s.rr, phase) || r.Notifier == nil {
		return nil
	}
	// The cache drops providerData (namespace, resource, Alertmanager and Grafana links); read it
	// once from the API server for the escalation.
	full := &remediationv1.RemediationRequest{}
	if err := r.APIReader.Get(ctx, keyOf(s.rr), full); err != nil {
		return fmt.Errorf("reading the full request for its %s escalation: %w", reason, err)
	}
	withProvider := *s.rr
	withProvider.Spec.ProviderData = full.Spec.ProviderData
	resp, err := r.Notifier.SendEscalation(ctx, r.buildEscalation(&withProvider, phase, reason, s.now))
	if err != nil {
		escalationsTotal.WithLabelValues(reason, "error").Inc()
		if !httpclient.Retryable(err) {
			// A permanent refusal would fail forever: record it so the request can finish.
			r.Recorder.Eventf(s.rr, nil, corev1.EventTypeWarning, "EscalationRejected", "Escalate", "the notification service refused the escalation: %v", err)
			s.rr.Status.Escalations = append(s.rr.Status.Escalations, remediationv1.EscalationRecord{Phase: string(phase), Reason: reason, Time: metav1.NewTime(s.now)})
			return nil
		}
		return fmt.Errorf("sending the %s escalation of phase %s: %w", reason, phase, err)
	}
	escalationsTotal.WithLabelValues(reason, "sent").Inc()
	if len(s.rr.Status.Escalations) < 16 {
		s.rr.Status.Escalations = append(s.rr.Status.Escalations, remediationv1.EscalationRecord{
			Phase: string(phase), Reason: reason, Time: metav1.NewTime(s.now), NotificationName: resp.NotificationName,
		})
	}
	if resp.NotificationName != "" && !hasRef(s.rr.Status.NotificationRequestRefs, resp.NotificationName) && len(s.rr.Status.NotificationRequestRefs) < 16 {
		s.rr.Status.NotificationRequestRefs = append(s.rr.Status.NotificationRequestRefs, common.ObjectReference{Name: resp.NotificationName, Namespace: s.rr.Namespace})
	}
	r.Recorder.Eventf(s.rr, nil, corev1.EventTypeWarning, "Escalated", "Escalate", "escalated the %s in phase %s to %v", reason, phase, notificationapi.DetermineChannels(string(s.rr.Spec.Priority)))
	return nil
}

// writeVerification lists the evidence of the outcome: when the change was made, how long
// evidence was gathered, each check with what it saw, and the conclusion.
func writeVerification(b *strings.Builder, v *remediationv1.Verification) {
	if v == nil {
		return
	}
	b.WriteString("\nVerification")
	if v.ChangeTime != nil {
		fmt.Fprintf(b, " of the change at %s", v.ChangeTime.UTC().Format(time.RFC3339))
	}
	if v.Window != nil {
		fmt.Fprintf(b, " (window %s)", v.Window.Duration)
	}
	b.WriteString(":\n")
	if v.Conclusion != "" {
		fmt.Fprintf(b, "%s\n", v.Conclusion)
	}
	b.WriteString("\nEvidence:\n")
	if len(v.Checks) == 0 {
		b.WriteString("- (none)\n")
	}
	for _, c := range v.Checks {
		fmt.Fprintf(b, "- %s [%s] %s: %s\n", c.Name, c.Source, c.Result, orNone(c.Observed))
	}
}
