package orchestrator

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"

	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// flushAudit delivers the outbox, oldest phase change first. An unacknowledged record stays in
// status.audit.pendingPhases and the error makes the request retry with backoff, so a datastorage
// outage or an orchestrator restart delays records but never drops them.
func (r *Reconciler) flushAudit(ctx context.Context, s *scope) error {
	st := &s.rr.Status
	if r.Audit == nil || len(st.Audit.PendingPhases) == 0 {
		return nil
	}
	for len(st.Audit.PendingPhases) > 0 {
		p := st.Audit.PendingPhases[0]
		if err := r.Audit.PostRemediation(ctx, r.buildAudit(s, p)); err != nil {
			auditPostsTotal.WithLabelValues("error").Inc()
			// Only a new error changes the status: an unchanged status writes nothing, so the
			// workqueue's backoff (not our own watch event) paces the retries.
			if msg := text.Truncate(err.Error(), 1024); msg != st.Audit.LastError {
				st.Audit.Attempts++
				st.Audit.LastError = msg
			}
			st.Audit.Pending = true
			return fmt.Errorf("auditing phase %s: %w", p.Phase, err)
		}
		auditPostsTotal.WithLabelValues("acknowledged").Inc()
		st.Audit.PendingPhases = st.Audit.PendingPhases[1:]
		st.Audit.LastAcknowledgedPhase = p.Phase
		st.Audit.Attempts = 0
		st.Audit.LastError = ""
	}
	if st.Audit.PendingPhases != nil && len(st.Audit.PendingPhases) == 0 {
		st.Audit.PendingPhases = nil
	}
	st.Audit.Pending = false
	log.FromContext(ctx).V(1).Info("Audit acknowledged", "lastAcknowledgedPhase", st.Audit.LastAcknowledgedPhase)
	return nil
}

func timePtr(t *metav1.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}

func childStart(start *metav1.Time, created metav1.Time) time.Time {
	if start != nil {
		return start.UTC()
	}
	return created.UTC()
}

func phaseOrPending[T ~string](p T) string {
	if p == "" {
		return "Pending"
	}
	return string(p)
}

func targetString(t common.TargetResource) string {
	if t.Namespace == "" {
		return t.Kind + "/" + t.Name
	}
	return t.Kind + "/" + t.Namespace + "/" + t.Name
}

// buildAudit renders the seed's RemediationAudit for one phase change, with the children's states,
// the approval decision and the executed operations.
func (r *Reconciler) buildAudit(s *scope, p remediationv1.AuditPendingPhase) auditapi.RemediationAudit {
	rr := s.rr
	st := rr.Status
	a := auditapi.RemediationAudit{
		AlertFingerprint:   rr.Spec.SignalFingerprint,
		RemediationName:    rr.Name,
		Namespace:          rr.Namespace,
		SignalName:         rr.Spec.SignalName,
		Severity:           string(rr.Spec.Severity),
		Environment:        string(rr.Spec.Environment),
		Priority:           string(rr.Spec.Priority),
		TargetResource:     targetString(rr.Spec.TargetResource),
		OverallPhase:       string(p.Phase),
		StartTime:          childStart(st.StartTime, rr.CreationTimestamp),
		ServiceCRDStatuses: []auditapi.ServiceCRDStatus{},
		PhaseSequence:      p.Sequence,
	}
	if p.Phase.IsTerminal() {
		a.Outcome = string(st.Outcome)
		a.CompletionTime = timePtr(st.CompletionTime)
		if a.CompletionTime == nil {
			t := p.Time.UTC()
			a.CompletionTime = &t
		}
		if st.TimeoutPhase != "" {
			v := string(st.TimeoutPhase)
			a.TimeoutPhase = &v
		}
		if st.FailureReason != "" {
			v := st.FailureReason
			a.FailureReason = &v
		}
	}
	if v := st.Verification; v != nil && (p.Phase == remediationv1.PhaseVerifying || p.Phase.IsTerminal()) {
		a.Verification = verificationRecord(v)
	}
	if s.rp != nil {
		a.ServiceCRDStatuses = append(a.ServiceCRDStatuses, auditapi.ServiceCRDStatus{ServiceType: "RemediationProcessing", CRDName: s.rp.Name,
			Phase: phaseOrPending(s.rp.Status.Phase), StartTime: childStart(s.rp.Status.StartTime, s.rp.CreationTimestamp), CompletionTime: timePtr(s.rp.Status.CompletionTime)})
	}
	if s.aia != nil {
		a.ServiceCRDStatuses = append(a.ServiceCRDStatuses, auditapi.ServiceCRDStatus{ServiceType: "AIAnalysis", CRDName: s.aia.Name,
			Phase: phaseOrPending(s.aia.Status.Phase), StartTime: childStart(s.aia.Status.StartTime, s.aia.CreationTimestamp), CompletionTime: timePtr(s.aia.Status.CompletionTime)})
		if ap := s.aia.Status.Approval; ap != nil {
			a.Approval = &auditapi.ApprovalRecord{Required: ap.Required, Decision: string(ap.Decision), DecidedBy: ap.DecidedBy, DecidedAt: timePtr(ap.DecidedAt)}
		}
	}
	if s.wfe != nil {
		a.ServiceCRDStatuses = append(a.ServiceCRDStatuses, auditapi.ServiceCRDStatus{ServiceType: "WorkflowExecution", CRDName: s.wfe.Name,
			Phase: phaseOrPending(s.wfe.Status.Phase), StartTime: childStart(s.wfe.Status.StartTime, s.wfe.CreationTimestamp), CompletionTime: timePtr(s.wfe.Status.CompletionTime)})
	}
	if s.ke != nil {
		a.ServiceCRDStatuses = append(a.ServiceCRDStatuses, auditapi.ServiceCRDStatus{ServiceType: "KubernetesExecution", CRDName: s.ke.Name,
			Phase: phaseOrPending(s.ke.Status.Phase), StartTime: childStart(s.ke.Status.StartTime, s.ke.CreationTimestamp), CompletionTime: timePtr(s.ke.Status.CompletionTime)})
		results := map[string]int{}
		for i, res := range s.ke.Status.OperationResults {
			results[res.Name] = i
		}
		for _, op := range s.ke.Spec.Operations {
			rec := auditapi.OperationRecord{Name: op.Name, Action: op.Action, Target: targetString(op.Target), Params: op.Parameters,
				Phase: "Pending", DryRun: s.ke.Spec.ExecutionConfig.DryRun}
			if i, ok := results[op.Name]; ok {
				res := s.ke.Status.OperationResults[i]
				rec.Phase, rec.Message = string(res.Phase), res.Message
				if res.DryRunResult != "" {
					rec.Message = text.Truncate(res.Message+" "+res.DryRunResult, 2048)
				}
			}
			a.Operations = append(a.Operations, rec)
		}
	}
	return a
}

// verificationRecord renders status.verification for the audit record.
func verificationRecord(v *remediationv1.Verification) *auditapi.VerificationRecord {
	out := &auditapi.VerificationRecord{ChangeTime: timePtr(v.ChangeTime), Conclusion: v.Conclusion}
	if v.Window != nil {
		out.Window = v.Window.Duration.String()
	}
	for _, c := range v.Checks {
		out.Checks = append(out.Checks, auditapi.VerificationCheck{Name: c.Name, Source: c.Source, Result: string(c.Result),
			Observed: c.Observed, Time: c.Time.UTC()})
	}
	return out
}
