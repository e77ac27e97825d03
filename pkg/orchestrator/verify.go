package orchestrator

import (
	"context"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// Verification: the outcome of a change is concluded from evidence, never from silence.
//
//   - The signal (status written by the gateway): a resolved notification at or after the change
//     passes; a firing notification whose startsAt is after the change is a re-fire and fails;
//     a re-send of the same firing alert (occurrenceCount up, startsAt unchanged or unknown) is
//     neither.
//   - Alertmanager (when configured), asked once at the end of the window: the alert still
//     firing for the target fails; none firing passes.
//   - The cluster, per operation that succeeded (verify_cluster.go), read on demand at every
//     VerificationInterval: the rollout, the new pods, the HPA, the node, the PVC, the pods.
//
// Remediated needs positive evidence: the alert resolved, or every cluster check passed and
// Alertmanager no longer has the alert. Any failed check is Ineffective at once. At the end of
// the window, anything else is Inconclusive.

// Check names and sources.
const (
	checkAlertResolved      = "alert-resolved"
	checkAlertRefired       = "alert-refired"
	checkAlertmanagerActive = "alertmanager-active"

	sourceSignal       = "signal"
	sourceAlertmanager = "alertmanager"
	sourceCluster      = "cluster"

	reasonInconclusive = "Inconclusive"
	// maxChecks is the CRD's bound on status.verification.checks.
	maxChecks = 16
)

// observation is one check as this reconcile saw it. pending marks an Unknown that may still
// change within the window (a rollout in progress), so a resolved alert waits for it.
type observation struct {
	name, source string
	result       remediationv1.VerificationResult
	observed     string
	pending      bool
}

func passed(name, source, format string, args ...any) observation {
	return observation{name: name, source: source, result: remediationv1.VerificationPassed, observed: fmt.Sprintf(format, args...)}
}

func failed(name, source, format string, args ...any) observation {
	return observation{name: name, source: source, result: remediationv1.VerificationFailed, observed: fmt.Sprintf(format, args...)}
}

func unknown(name, source, format string, args ...any) observation {
	return observation{name: name, source: source, result: remediationv1.VerificationUnknown, observed: fmt.Sprintf(format, args...)}
}

func waiting(name, source, format string, args ...any) observation {
	o := unknown(name, source, format, args...)
	o.pending = true
	return o
}

// changeTime is when the change was made: the first operation applied, else the execution's
// completion (or start), else now.
func changeTime(ke *kev1.KubernetesExecution, now time.Time) metav1.Time {
	var first *metav1.Time
	if ke != nil {
		for i := range ke.Status.OperationResults {
			if at := ke.Status.OperationResults[i].AppliedTime; at != nil && (first == nil || at.Before(first)) {
				first = at
			}
		}
		if first == nil {
			first = ke.Status.CompletionTime
		}
		if first == nil {
			first = ke.Status.StartTime
		}
	}
	if first == nil {
		return metav1.NewTime(now)
	}
	return *first
}

// startVerifying moves an executed request to Verifying and records when the change was made
// and how long evidence is gathered.
func (r *Reconciler) startVerifying(s *scope) {
	st := &s.rr.Status
	var base int32
	if d := st.Deduplication; d != nil {
		base = d.OccurrenceCount
	}
	st.VerificationBaseline = &base
	change := changeTime(s.ke, s.now)
	window := r.Config.WindowFor(s.rr.Spec.SignalName)
	st.Verification = &remediationv1.Verification{ChangeTime: &change, Window: &metav1.Duration{Duration: window}}
	// The signal's evidence as it stands goes into the same write as the phase change, so the
	// next reconcile, seeing the same, writes nothing.
	recordChecks(st.Verification, signalEvidence(s.rr), s.now)
	r.transition(s, remediationv1.PhaseVerifying, fmt.Sprintf("verifying the change: gathering evidence from the alert and the cluster until %s",
		change.Add(window).UTC().Format(time.RFC3339)))
	s.requeueAfter(min(r.Config.verificationInterval(), window))
}

func (r *Reconciler) reconcileVerifying(ctx context.Context, s *scope) error {
	st := &s.rr.Status
	if st.Verification == nil || st.Verification.ChangeTime == nil || st.Verification.Window == nil {
		// Entered Verifying before evidence was recorded (an older orchestrator): start now.
		v := &remediationv1.Verification{}
		if st.Verification != nil {
			v = st.Verification.DeepCopy()
		}
		if v.ChangeTime == nil {
			c := changeTime(s.ke, s.now)
			if s.ke == nil && st.PhaseStartTime != nil {
				c = *st.PhaseStartTime
			}
			v.ChangeTime = &c
		}
		if v.Window == nil {
			v.Window = &metav1.Duration{Duration: r.Config.WindowFor(s.rr.Spec.SignalName)}
		}
		st.Verification = v
	}
	v := st.Verification
	end := v.ChangeTime.Add(v.Window.Duration)
	over := !s.now.Before(end)

	obs := signalEvidence(s.rr)
	if !decided(obs) {
		obs = append(obs, r.clusterEvidence(ctx, s, over)...)
	}
	retryAM := false
	if over && !decided(obs) && !resolvedPassed(obs) {
		if o, retry := r.alertmanagerEvidence(ctx, s, end); o != nil {
			obs = append(obs, *o)
			retryAM = retry
		}
	}
	recordChecks(v, obs, s.now)
	outcome, conclusion, done := conclude(obs, over, r.Config.Alertmanager != nil && s.rr.Spec.SignalType == remediationv1.SignalTypePrometheusAlert, v.Window.Duration)
	if done && retryAM && outcome == remediationv1.OutcomeInconclusive {
		done = false // Alertmanager did not answer: ask again shortly before concluding without it
	}
	if !done {
		next := r.Config.verificationInterval()
		if left := end.Sub(s.now); left > 0 && left < next {
			next = left
		}
		if retryAM {
			next = min(next, 10*time.Second)
		}
		s.requeueAfter(next)
		return nil
	}
	v.Conclusion = text.Truncate(conclusion, 1024)
	reason := remediationv1.ReasonRemediated
	switch outcome {
	case remediationv1.OutcomeIneffective:
		reason = reasonIneffective
	case remediationv1.OutcomeInconclusive:
		reason = reasonInconclusive
	}
	log.FromContext(ctx).Info("Verified", "outcome", outcome, "conclusion", conclusion)
	r.finish(s, remediationv1.PhaseCompleted, outcome, reason, conclusion)
	return nil
}

// decided reports whether a check failed (the outcome is Ineffective whatever else is seen).
func decided(obs []observation) bool {
	for _, o := range obs {
		if o.result == remediationv1.VerificationFailed {
			return true
		}
	}
	return false
}

func resolvedPassed(obs []observation) bool {
	for _, o := range obs {
		if o.name == checkAlertResolved && o.result == remediationv1.VerificationPassed {
			return true
		}
	}
	return false
}

// signalEvidence reads what the gateway recorded about the alert since the change.
func signalEvidence(rr *remediationv1.RemediationRequest) []observation {
	st := &rr.Status
	change := st.Verification.ChangeTime.Time
	at := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	var obs []observation
	d := st.Deduplication
	refired := d != nil && d.LastFiringTime != nil && d.LastFiringTime.After(change)
	switch {
	case refired:
		obs = append(obs, failed(checkAlertRefired, sourceSignal, "the alert fired again: a firing notification with startsAt %s, after the change at %s", at(d.LastFiringTime.Time), at(change)))
	default:
		resends := int32(0)
		if d != nil && st.VerificationBaseline != nil {
			resends = d.OccurrenceCount - *st.VerificationBaseline
		}
		msg := "no firing notification with a startsAt after the change"
		if resends > 0 {
			since := "its original startsAt"
			if d.LastFiringTime != nil {
				since = "its original startsAt " + at(d.LastFiringTime.Time)
			}
			msg = fmt.Sprintf("re-sent %d time(s) since the change with %s (last at %s): the same firing alert, not a re-fire", resends, since, at(d.LastSeen.Time))
		}
		obs = append(obs, passed(checkAlertRefired, sourceSignal, "%s", msg))
	}
	switch res := st.SignalResolvedAt; {
	case res == nil:
		obs = append(obs, unknown(checkAlertResolved, sourceSignal, "no resolved notification received"))
	case res.Time.Before(change):
		obs = append(obs, unknown(checkAlertResolved, sourceSignal, "the alert resolved at %s, before the change at %s: not evidence of the fix", at(res.Time), at(change)))
	case refired:
		obs = append(obs, unknown(checkAlertResolved, sourceSignal, "the alert resolved at %s, then fired again", at(res.Time)))
	default:
		obs = append(obs, passed(checkAlertResolved, sourceSignal, "the alert resolved at %s, %s after the change", at(res.Time), res.Time.Sub(change).Round(time.Second)))
	}
	return obs
}

// alertmanagerEvidence asks Alertmanager, at the end of the window, whether the alert still
// fires for the target. retry is set when it did not answer and the grace period (a minute
// past the window) is not over.
func (r *Reconciler) alertmanagerEvidence(ctx context.Context, s *scope, end time.Time) (o *observation, retry bool) {
	am := r.Config.Alertmanager
	if am == nil || s.rr.Spec.SignalType != remediationv1.SignalTypePrometheusAlert {
		return nil, false
	}
	// The cache drops the alert's labels: read them once from the API server.
	full := &remediationv1.RemediationRequest{}
	if err := r.APIReader.Get(ctx, keyOf(s.rr), full); err != nil {
		ob := unknown(checkAlertmanagerActive, sourceAlertmanager, "could not read the alert's labels: %v", err)
		return &ob, s.now.Before(end.Add(time.Minute))
	}
	matchers, what := alertMatchers(full)
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	alerts, err := am.FiringAlerts(qctx, matchers)
	if err != nil {
		alertmanagerQueries.WithLabelValues("error").Inc()
		ob := unknown(checkAlertmanagerActive, sourceAlertmanager, "Alertmanager did not answer: %v", err)
		return &ob, s.now.Before(end.Add(time.Minute))
	}
	alertmanagerQueries.WithLabelValues("ok").Inc()
	if len(alerts) == 0 {
		ob := passed(checkAlertmanagerActive, sourceAlertmanager, "no %s firing at the end of the window", what)
		return &ob, false
	}
	first := alerts[0]
	for _, a := range alerts[1:] {
		if a.StartsAt.Before(first.StartsAt) {
			first = a
		}
	}
	state := first.State
	if state == "" {
		state = "active"
	}
	ob := failed(checkAlertmanagerActive, sourceAlertmanager, "%d of %s still firing at the end of the window (oldest since %s, %s)",
		len(alerts), what, first.StartsAt.UTC().Format(time.RFC3339), state)
	return &ob, false
}

// conclude weighs the evidence: any failed check is Ineffective; the alert resolved (once no
// cluster check is still settling) is Remediated; at the end of the window, every cluster check
// passed with Alertmanager no longer having the alert is Remediated, and anything else is
// Inconclusive. done is false while the window is open and nothing is decided.
func conclude(obs []observation, over, amConfigured bool, window time.Duration) (outcome remediationv1.Outcome, conclusion string, done bool) {
	var fails, clusterPassed, clusterOther []string
	var amPassed, settling bool
	for _, o := range obs {
		switch {
		case o.result == remediationv1.VerificationFailed:
			fails = append(fails, o.name+": "+o.observed)
		case o.source == sourceCluster && o.result == remediationv1.VerificationPassed:
			clusterPassed = append(clusterPassed, o.name)
		case o.source == sourceCluster:
			clusterOther = append(clusterOther, o.name)
		case o.name == checkAlertmanagerActive && o.result == remediationv1.VerificationPassed:
			amPassed = true
		}
		if o.pending {
			settling = true
		}
	}
	if len(fails) > 0 {
		return remediationv1.OutcomeIneffective, "the remediation did not help: " + strings.Join(fails, "; "), true
	}
	resolved := resolvedPassed(obs)
	if resolved && !settling {
		msg := "the alert resolved after the change"
		if len(clusterPassed) > 0 {
			msg += " and the cluster checks passed (" + strings.Join(clusterPassed, ", ") + ")"
		}
		if len(clusterOther) > 0 {
			msg += " (" + strings.Join(clusterOther, ", ") + " not settled)"
		}
		return remediationv1.OutcomeRemediated, msg, true
	}
	if !over {
		return "", "", false
	}
	if resolved {
		return remediationv1.OutcomeRemediated, "the alert resolved after the change (" + strings.Join(clusterOther, ", ") + " not settled at the end of the window)", true
	}
	if len(clusterPassed) > 0 && len(clusterOther) == 0 && amPassed {
		return remediationv1.OutcomeRemediated, "every cluster check passed (" + strings.Join(clusterPassed, ", ") +
			") and Alertmanager no longer has the alert at the end of the " + window.String() + " window", true
	}
	var missing []string
	missing = append(missing, "the alert did not resolve within the "+window.String()+" window")
	switch {
	case len(clusterPassed)+len(clusterOther) == 0:
		missing = append(missing, "no cluster check applies to the actions taken")
	case len(clusterOther) > 0:
		missing = append(missing, "not every cluster check passed ("+strings.Join(clusterOther, ", ")+" unknown)")
	}
	if !amConfigured {
		missing = append(missing, "Alertmanager was not asked (no --alertmanager-url)")
	} else if !amPassed {
		missing = append(missing, "Alertmanager gave no answer")
	}
	return remediationv1.OutcomeInconclusive, "no evidence either way: " + strings.Join(missing, "; "), true
}

// recordChecks merges this reconcile's observations into status.verification.checks: a check
// keeps its time while its result and observation stay the same, and a check still settling
// keeps its first observation until its result changes, so an unchanged picture (or a rollout
// progressing) writes nothing. The list is bounded by the CRD (16 entries).
func recordChecks(v *remediationv1.Verification, obs []observation, now time.Time) {
	for _, o := range obs {
		c := remediationv1.VerificationCheck{Name: text.Truncate(o.name, 63), Source: o.source, Result: o.result,
			Observed: text.Truncate(o.observed, 512), Time: metav1.NewTime(now)}
		found := false
		for i := range v.Checks {
			old := &v.Checks[i]
			if old.Name != c.Name {
				continue
			}
			found = true
			if o.pending && old.Result == c.Result {
				break // still settling (a rollout in progress): its progress is not worth a write
			}
			if old.Result != c.Result || old.Observed != c.Observed || old.Source != c.Source {
				*old = c
			}
		}
		if !found && len(v.Checks) < maxChecks {
			v.Checks = append(v.Checks, c)
		}
	}
}
