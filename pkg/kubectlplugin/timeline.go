package kubectlplugin

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
)

// PhaseReceived is the timeline's first entry: the gateway received the signal.
const PhaseReceived = "Received"

// TimelineEntry is one phase of a remediation: when it started and how long it lasted.
type TimelineEntry struct {
	// Phase is a RemediationRequest phase, or Received for the signal's arrival.
	Phase string `json:"phase"`
	// Start is when the phase began.
	Start metav1.Time `json:"start"`
	// Duration is how long the phase lasted (up to now for the current phase); absent for a final phase.
	Duration *metav1.Duration `json:"duration,omitempty"`
	// Current is true for the phase the request is in, unless it is final.
	Current bool `json:"current,omitempty"`
	// Note says what happened in the phase, in a few words.
	Note string `json:"note,omitempty"`
}

// timeline orders the phases the request went through with their start times. Start times come,
// most exact first, from the audit outbox (the phase changes not yet acknowledged), the request's
// phaseStartTime for its current phase, the children's startTime (creation time when unset),
// and the request's completionTime for its final phase.
func timeline(r *Remediation, now metav1.Time) []TimelineEntry {
	rr := r.Request
	st := &rr.Status
	starts := map[remediationv1.Phase]metav1.Time{}
	setIfUnset := func(p remediationv1.Phase, t *metav1.Time) {
		if t == nil || t.IsZero() {
			return
		}
		if _, ok := starts[p]; !ok {
			starts[p] = *t
		}
	}
	for i := range st.Audit.PendingPhases {
		pp := st.Audit.PendingPhases[i]
		setIfUnset(pp.Phase, &pp.Time)
	}
	if st.OverallPhase != "" {
		setIfUnset(st.OverallPhase, st.PhaseStartTime)
	}
	if st.OverallPhase.IsTerminal() {
		setIfUnset(st.OverallPhase, st.CompletionTime)
	}
	if rp := r.Processing; rp != nil {
		setIfUnset(remediationv1.PhaseProcessing, firstTime(rp.Status.StartTime, &rp.CreationTimestamp))
	} else if st.RemediationProcessingRef != nil {
		setIfUnset(remediationv1.PhaseProcessing, st.StartTime)
	}
	if aia := r.Analysis; aia != nil {
		setIfUnset(remediationv1.PhaseAnalyzing, firstTime(aia.Status.StartTime, &aia.CreationTimestamp))
		if c := meta.FindStatusCondition(aia.Status.Conditions, aiv1.ConditionApprovalRequired); c != nil && c.Status == metav1.ConditionTrue {
			setIfUnset(remediationv1.PhaseAwaitingApproval, &c.LastTransitionTime)
		}
	}
	if ar := r.Approval; ar != nil {
		setIfUnset(remediationv1.PhaseAwaitingApproval, &ar.CreationTimestamp)
	}
	if wfe := r.Workflow; wfe != nil {
		setIfUnset(remediationv1.PhasePlanning, firstTime(wfe.Status.StartTime, &wfe.CreationTimestamp))
	}
	if ke := r.Execution; ke != nil {
		setIfUnset(remediationv1.PhaseExecuting, firstTime(ke.Status.StartTime, &ke.CreationTimestamp))
		if ke.Status.Phase == kev1.PhaseCompleted {
			setIfUnset(remediationv1.PhaseVerifying, ke.Status.CompletionTime)
		}
	}

	var out []TimelineEntry
	received := receivedAt(rr)
	if !received.IsZero() {
		out = append(out, TimelineEntry{Phase: PhaseReceived, Start: received, Note: "signal " + rr.Spec.SignalName})
	}
	for _, p := range allPhases {
		t, ok := starts[p]
		if !ok || p == remediationv1.PhasePending {
			continue
		}
		out = append(out, TimelineEntry{Phase: string(p), Start: t, Note: phaseNote(r, p)})
	}
	for i := range out {
		final := remediationv1.Phase(out[i].Phase).IsTerminal()
		switch {
		case i+1 < len(out):
			d := out[i+1].Start.Sub(out[i].Start.Time)
			if d < 0 {
				d = 0
			}
			out[i].Duration = &metav1.Duration{Duration: d}
		case final:
		default:
			d := now.Sub(out[i].Start.Time)
			if d < 0 {
				d = 0
			}
			out[i].Duration = &metav1.Duration{Duration: d}
			out[i].Current = out[i].Phase == string(st.OverallPhase) || out[i].Phase == PhaseReceived
		}
	}
	return out
}

func firstTime(ts ...*metav1.Time) *metav1.Time {
	for _, t := range ts {
		if t != nil && !t.IsZero() {
			return t
		}
	}
	return nil
}

// phaseNote summarises what happened in phase p.
func phaseNote(r *Remediation, p remediationv1.Phase) string {
	st := &r.Request.Status
	switch p {
	case remediationv1.PhaseProcessing:
		if rp := r.Processing; rp != nil {
			if es := rp.Status.EnrichedSignal; es != nil {
				return fmt.Sprintf("processing %s: %s, %s", orNone(string(rp.Status.Phase)), orNone(es.Environment), orNone(es.BusinessPriority))
			}
			return "processing " + orNone(string(rp.Status.Phase))
		}
	case remediationv1.PhaseAnalyzing:
		if aia := r.Analysis; aia != nil {
			note := "analysis " + orNone(string(aia.Status.Phase))
			if len(aia.Status.Recommendations) > 0 {
				note += ": " + aia.Status.Recommendations[0].Action
			}
			return note
		}
	case remediationv1.PhaseAwaitingApproval:
		if ar := r.Approval; ar != nil && ar.Status.Decision != "" {
			if ar.Status.DecidedBy != "" {
				return string(ar.Status.Decision) + " by " + ar.Status.DecidedBy
			}
			return string(ar.Status.Decision)
		}
		return "waiting for a decision"
	case remediationv1.PhasePlanning:
		if wfe := r.Workflow; wfe != nil {
			if n := len(wfe.Status.Operations); n > 0 {
				return fmt.Sprintf("workflow %s: %d %s", orNone(string(wfe.Status.Phase)), n, plural(n, "operation", "operations"))
			}
			return "workflow " + orNone(string(wfe.Status.Phase))
		}
	case remediationv1.PhaseExecuting:
		if ke := r.Execution; ke != nil {
			note := "execution " + orNone(string(ke.Status.Phase))
			if ke.Spec.ExecutionConfig.DryRun {
				note += " (dry run)"
			}
			return note
		}
	case remediationv1.PhaseVerifying:
		if st.SignalResolvedAt != nil {
			return "signal resolved at " + timestamp(st.SignalResolvedAt)
		}
		return "stabilization window"
	case remediationv1.PhaseCompleted:
		return orNone(string(st.Outcome))
	case remediationv1.PhaseFailed:
		if st.FailedPhase != "" {
			return "in " + string(st.FailedPhase) + ": " + oneLine(st.FailureReason, 80)
		}
		return oneLine(st.FailureReason, 80)
	case remediationv1.PhaseTimedOut:
		return "in " + orNone(string(st.TimeoutPhase))
	case remediationv1.PhaseBlocked, remediationv1.PhaseSkipped:
		return oneLine(st.Message, 80)
	}
	return ""
}
