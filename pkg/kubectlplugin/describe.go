package kubectlplugin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/objdiff"
)

func newDescribeCommand(o *Options) *cobra.Command {
	var watch bool
	cmd := &cobra.Command{
		Use:   "describe <request> [--watch]",
		Short: "Show a remediation: timeline, context, root cause, recommended action, operations, verification, notifications, escalations, audit",
		Long: `Show a remediation: the timeline of its phases (start and duration of each), the enriched
context in brief, the root cause with its evidence and confidence, the recommended action and its
parameters, the approval, the operations with their dry-run result and what changed, the
verification of the outcome (each piece of evidence from the alert, Alertmanager and the cluster,
and the conclusion drawn from it), the notifications and their delivery, the escalations and the
audit acknowledgement.

With --watch the description is printed again each time it changes, until the request reaches a
final phase (Completed, Failed, TimedOut, Skipped).`,
		Example: `  kubectl kubernaut describe remediation-3f2a9c0d1e4b5a6f
  kubectl kubernaut describe remediation-3f2a9c0d1e4b5a6f --watch
  kubectl kubernaut describe remediation-3f2a9c0d1e4b5a6f -o yaml`,
		Args: exactlyOneRequest,
		RunE: func(cmd *cobra.Command, args []string) error {
			if watch {
				return o.runWatch(cmd.Context(), args[0])
			}
			return o.runDescribe(cmd.Context(), args[0])
		},
	}
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "Follow the remediation live until it reaches a final phase.")
	return cmd
}

func (o *Options) runDescribe(ctx context.Context, name string) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	r, err := gather(ctx, c, o.namespace(), name, metav1.NewTime(o.Now()))
	if err != nil {
		return err
	}
	return o.printRemediation(r)
}

func (o *Options) printRemediation(r *Remediation) error {
	if o.structured() {
		return o.printStructured(r)
	}
	var buf bytes.Buffer
	renderRemediation(&buf, r, o.Now())
	_, err := o.Out.Write(buf.Bytes())
	return err
}

// renderRemediation writes describe's text.
func renderRemediation(out io.Writer, r *Remediation, now time.Time) {
	rr := r.Request
	st := &rr.Status
	w := newTable(out)
	fmt.Fprintf(w, "Name:\t%s\n", rr.Name)
	fmt.Fprintf(w, "Namespace:\t%s\n", rr.Namespace)
	fmt.Fprintf(w, "Phase:\t%s\n", orNone(string(st.OverallPhase)))
	fmt.Fprintf(w, "Outcome:\t%s\n", orNone(string(st.Outcome)))
	if st.Message != "" {
		fmt.Fprintf(w, "Message:\t%s\n", oneLine(st.Message, 200))
	}
	if st.FailureReason != "" {
		fmt.Fprintf(w, "Failure:\t%s\n", oneLine(st.FailureReason, 200))
	}
	sig := fmt.Sprintf("%s (%s", orNone(rr.Spec.SignalName), orNone(string(rr.Spec.SignalType)))
	if rr.Spec.SignalSource != "" {
		sig += " from " + rr.Spec.SignalSource
	}
	if !rr.Spec.FiringTime.IsZero() {
		sig += ", firing since " + timestamp(&rr.Spec.FiringTime)
	}
	fmt.Fprintf(w, "Signal:\t%s)\n", sig)
	fmt.Fprintf(w, "Severity:\t%s, %s, priority %s\n", orNone(string(rr.Spec.Severity)), orNone(string(rr.Spec.Environment)), orNone(string(rr.Spec.Priority)))
	fmt.Fprintf(w, "Target:\t%s\n", targetString(rr.Spec.TargetResource))
	if tr := rr.Spec.TargetResolution; tr != nil {
		if tr.UnresolvedReason != "" {
			fmt.Fprintf(w, "Unresolved:\t%s\n", oneLine(tr.UnresolvedReason, 200))
		}
		if tr.Source != "" || tr.NamedTarget != nil {
			from := orNone(tr.Source)
			if tr.NamedTarget != nil && *tr.NamedTarget != rr.Spec.TargetResource {
				from += " (named " + targetString(*tr.NamedTarget) + ")"
			}
			fmt.Fprintf(w, "From label:\t%s\n", from)
		}
	}
	if d := st.Deduplication; d != nil {
		fmt.Fprintf(w, "Occurrences:\t%d (first seen %s, last seen %s)\n", d.OccurrenceCount, timestamp(&d.FirstSeen), timestamp(&d.LastSeen))
	} else {
		fmt.Fprintf(w, "Occurrences:\t0\n")
	}
	if st.SignalResolvedAt != nil {
		fmt.Fprintf(w, "Resolved:\t%s\n", timestamp(st.SignalResolvedAt))
	}
	if st.RetryCount > 0 {
		fmt.Fprintf(w, "Retries:\t%d\n", st.RetryCount)
	}
	fmt.Fprintf(w, "Fingerprint:\t%s\n", orNone(rr.Spec.SignalFingerprint))
	fmt.Fprintf(w, "Age:\t%s\n", age(now, receivedAt(rr)))
	_ = w.Flush()

	renderTimeline(out, r)
	renderContext(out, r, now)
	renderAnalysis(out, r)
	renderApproval(out, r, now)
	renderOperations(out, r)
	renderVerification(out, r, now)
	renderNotifications(out, r)
	renderEscalations(out, r)
	renderAudit(out, r)
	renderConditions(out, rr.Status.Conditions)
	if len(r.Warnings) > 0 {
		fmt.Fprintf(out, "\nWarnings:\n")
		for _, m := range r.Warnings {
			fmt.Fprintf(out, "  %s\n", m)
		}
	}
}

func renderTimeline(out io.Writer, r *Remediation) {
	fmt.Fprintf(out, "\nTimeline:\n")
	if len(r.Timeline) == 0 {
		fmt.Fprintf(out, "  (no phase started yet)\n")
		return
	}
	w := newTable(out)
	fmt.Fprintf(w, "  PHASE\tSTARTED\tDURATION\tNOTE\n")
	for _, e := range r.Timeline {
		d := "-"
		if e.Duration != nil {
			d = shortDuration(e.Duration.Duration)
			if e.Current {
				d += " (running)"
			}
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", e.Phase, timestamp(&e.Start), d, orNone(e.Note))
	}
	_ = w.Flush()
}

// signalContext is the enriched context: processing's result, or the analysis's snapshot of it.
func signalContext(r *Remediation) (env, priority, from string, kc *common.KubernetesContext) {
	if rp := r.Processing; rp != nil && rp.Status.EnrichedSignal != nil {
		es := rp.Status.EnrichedSignal
		env, priority = orNone(es.Environment), orNone(es.BusinessPriority)
		if es.EnvironmentSource != "" {
			env += " (from " + string(es.EnvironmentSource) + ")"
		}
		if es.PriorityRule != "" {
			priority += " (" + es.PriorityRule + ")"
		}
		return env, priority, "RemediationProcessing " + rp.Name, es.KubernetesContext
	}
	if aia := r.Analysis; aia != nil {
		ac := aia.Spec.AnalysisRequest.AlertContext
		return ac.Environment, ac.BusinessPriority, "AIAnalysis " + aia.Name, ac.KubernetesContext
	}
	return "", "", "", nil
}

const maxContextLines = 5

func renderContext(out io.Writer, r *Remediation, now time.Time) {
	env, priority, from, kc := signalContext(r)
	if from == "" {
		return
	}
	header := "\nContext: (from " + from
	if kc != nil && kc.CollectedAt != nil {
		header += ", collected " + timestamp(kc.CollectedAt)
	}
	fmt.Fprintf(out, "%s)\n", header)
	w := newTable(out)
	fmt.Fprintf(w, "  Environment:\t%s, priority %s\n", orNone(env), orNone(priority))
	if kc == nil {
		_ = w.Flush()
		return
	}
	if kc.TargetNotFound {
		fmt.Fprintf(w, "  Target:\tnot found when processing looked\n")
	}
	if len(kc.OwnerChain) > 0 {
		chain := make([]string, 0, len(kc.OwnerChain))
		for _, t := range kc.OwnerChain {
			chain = append(chain, t.Kind+"/"+t.Name)
		}
		fmt.Fprintf(w, "  Owners:\t%s\n", strings.Join(chain, " → "))
	}
	if wl := kc.Workload; wl != nil {
		line := wl.Kind + "/" + wl.Name + ":"
		if wl.Replicas != nil {
			line += fmt.Sprintf(" %d replicas,", *wl.Replicas)
		}
		line += fmt.Sprintf(" %d ready, %d updated, %d available", wl.ReadyReplicas, wl.UpdatedReplicas, wl.AvailableReplicas)
		if wl.Paused {
			line += ", paused"
		}
		if g := wl.GitOps; g != nil {
			line += ", applied from Git by " + g.String()
		}
		fmt.Fprintf(w, "  Workload:\t%s\n", line)
		for _, c := range wl.Conditions {
			if c.Status != "True" || c.Type == "Progressing" && c.Reason == "NewReplicaSetAvailable" {
				fmt.Fprintf(w, "  \t%s=%s %s %s\n", c.Type, c.Status, c.Reason, oneLine(c.Message, 80))
			}
		}
		for _, c := range wl.Containers {
			line := fmt.Sprintf("%s %s", c.Name, orNone(c.Image))
			if len(c.Requests) > 0 {
				line += "; requests " + kv(c.Requests)
			}
			if len(c.Limits) > 0 {
				line += "; limits " + kv(c.Limits)
			}
			if !c.HasLivenessProbe {
				line += "; no liveness probe"
			}
			fmt.Fprintf(w, "  Container:\t%s\n", line)
		}
	} else if kc.Replicas != nil {
		ready := int32(0)
		if kc.ReadyReplicas != nil {
			ready = *kc.ReadyReplicas
		}
		fmt.Fprintf(w, "  Replicas:\t%d, %d ready\n", *kc.Replicas, ready)
	}
	if ro := kc.Rollout; ro != nil && ro.Current != nil {
		line := revision(ro.Current, now)
		if ro.Previous != nil {
			line += "; previous " + revision(ro.Previous, now)
		}
		fmt.Fprintf(w, "  Rollout:\t%s\n", line)
	}
	for i, p := range kc.Pods {
		if i == maxContextLines {
			fmt.Fprintf(w, "  \t… %d more pods\n", len(kc.Pods)-i)
			break
		}
		label := "  Pods:"
		if i > 0 {
			label = "  "
		}
		line := p.Name + " " + orNone(p.Phase)
		if p.Reason != "" {
			line += " (" + p.Reason + ")"
		}
		if p.NodeName != "" {
			line += " on " + p.NodeName
		}
		for _, c := range p.Containers {
			line += fmt.Sprintf("; %s ready=%t restarts=%d", c.Name, c.Ready, c.RestartCount)
			if c.Reason != "" {
				line += " " + c.Reason
			}
			if c.LastTerminationReason != "" {
				line += " last " + c.LastTerminationReason
				if c.LastExitCode != nil {
					line += fmt.Sprintf(" (exit %d)", *c.LastExitCode)
				}
			}
		}
		fmt.Fprintf(w, "%s\t%s\n", label, line)
	}
	for i, n := range kc.Nodes {
		if i == maxContextLines {
			fmt.Fprintf(w, "  \t… %d more nodes\n", len(kc.Nodes)-i)
			break
		}
		label := "  Nodes:"
		if i > 0 {
			label = "  "
		}
		line := n.Name + " Ready=" + orNone(n.Ready)
		if n.Unschedulable {
			line += ", unschedulable"
		}
		for _, c := range n.Conditions {
			if c.Type != "Ready" && c.Status == "True" {
				line += ", " + c.Type
			}
		}
		if len(n.Taints) > 0 {
			line += ", taints " + strings.Join(n.Taints, " ")
		}
		fmt.Fprintf(w, "%s\t%s\n", label, line)
	}
	if h := kc.HPA; h != nil {
		line := fmt.Sprintf("%s: %d..%d replicas, current %d, desired %d", h.Name, h.MinReplicas, h.MaxReplicas, h.CurrentReplicas, h.DesiredReplicas)
		if h.AtMaximum {
			line += ", at maximum"
		}
		if h.ScalingLimited {
			line += ", scaling limited"
			if h.ScalingLimitedReason != "" {
				line += " (" + h.ScalingLimitedReason + ")"
			}
		}
		if c := h.Controller; c != nil {
			line += fmt.Sprintf(", controlled by %s/%s", c.Kind, c.Name)
		}
		fmt.Fprintf(w, "  HPA:\t%s\n", line)
	}
	if p := kc.PDB; p != nil {
		fmt.Fprintf(w, "  PDB:\t%s: %d disruptions allowed, %d healthy\n", p.Name, p.DisruptionsAllowed, p.CurrentHealthy)
	}
	for i, e := range kc.RecentEvents {
		if i == maxContextLines {
			fmt.Fprintf(w, "  \t… %d more events\n", len(kc.RecentEvents)-i)
			break
		}
		label := "  Events:"
		if i > 0 {
			label = "  "
		}
		fmt.Fprintf(w, "%s\t%s %s ×%d %s: %s\n", label, e.Type, e.Reason, max(e.Count, 1), orNone(e.Object), oneLine(e.Message, 100))
	}
	if len(kc.Truncated) > 0 {
		fmt.Fprintf(w, "  Truncated:\t%s\n", strings.Join(kc.Truncated, ", "))
	}
	_ = w.Flush()
}

func revision(rv *common.RevisionSummary, now time.Time) string {
	line := fmt.Sprintf("revision %d", rv.Revision)
	if rv.Name != "" {
		line += " " + rv.Name
	}
	if len(rv.Images) > 0 {
		line += " [" + strings.Join(rv.Images, " ") + "]"
	}
	if rv.BecameCurrentAt != nil {
		line += " since " + timestamp(rv.BecameCurrentAt) + " (" + age(now, *rv.BecameCurrentAt) + " ago)"
	}
	return line
}

func percent(f float64) string { return fmt.Sprintf("%.0f%%", f*100) }

func renderAnalysis(out io.Writer, r *Remediation) {
	aia := r.Analysis
	if aia == nil {
		return
	}
	s := &aia.Status
	header := fmt.Sprintf("\nAnalysis: (AIAnalysis %s, %s", aia.Name, orNone(string(s.Phase)))
	if s.Provider != "" {
		header += ", provider " + s.Provider
	}
	fmt.Fprintf(out, "%s)\n", header)
	field := func(label, value string) { fmt.Fprintf(out, "  %-14s %s\n", label+":", value) }
	if s.Message != "" {
		field("Message", oneLine(s.Message, 200))
	}
	if s.Outcome != "" {
		field("Outcome", string(s.Outcome))
	}
	if s.ManualReviewReason != "" {
		field("Manual review", oneLine(s.ManualReviewReason, 200))
	}
	field("Root cause", orNone(oneLine(s.RootCause, 300)))
	if s.RootCause != "" || s.Confidence > 0 {
		field("Confidence", percent(s.Confidence))
	}
	if s.RiskLevel != "" {
		field("Risk", string(s.RiskLevel))
	}
	if s.InvestigationSummary != "" {
		field("Summary", oneLine(s.InvestigationSummary, 300))
	}
	if s.TokensUsed > 0 {
		field("Tokens used", fmt.Sprintf("%d", s.TokensUsed))
	}
	if len(s.Evidence) > 0 {
		fmt.Fprintf(out, "  Evidence:\n")
		for _, e := range s.Evidence {
			fmt.Fprintf(out, "    - %s\n", oneLine(e, 200))
		}
	}
	if len(s.Refusals) > 0 {
		fmt.Fprintf(out, "  Refused by the guardrails:\n")
		for _, rf := range s.Refusals {
			line := string(rf.Reason)
			if rf.Action != "" {
				line += " " + rf.Action
			}
			if rf.Target != "" {
				line += " on " + rf.Target
			}
			if rf.Message != "" {
				line += ": " + oneLine(rf.Message, 160)
			}
			fmt.Fprintf(out, "    - %s\n", line)
		}
	}
	if len(s.Recommendations) == 0 {
		if s.Phase == aiv1.PhaseCompleted {
			field("Recommended", "no action")
		}
		return
	}
	top := s.Recommendations[0]
	field("Recommended", fmt.Sprintf("%s (risk %s, confidence %s)", top.Action, orNone(string(top.RiskLevel)), percent(top.Confidence)))
	if top.Description != "" {
		fmt.Fprintf(out, "    %s\n", oneLine(top.Description, 200))
	}
	if top.Rationale != "" {
		fmt.Fprintf(out, "    Rationale: %s\n", oneLine(top.Rationale, 200))
	}
	if top.HistoricalSuccessRate != nil {
		fmt.Fprintf(out, "    Historical success: %s\n", percent(*top.HistoricalSuccessRate))
	}
	if len(top.WorkflowSteps) > 0 {
		w := newTable(out)
		fmt.Fprintf(w, "    STEP\tACTION\tTARGET\tPARAMETERS\tDEPENDS ON\n")
		for _, st := range top.WorkflowSteps {
			target := "(signal's target)"
			if st.Target != nil {
				target = targetString(*st.Target)
			}
			fmt.Fprintf(w, "    %s\t%s\t%s\t%s\t%s\n", st.Name, st.Action, target, kv(st.Parameters), orNone(strings.Join(st.DependsOn, ",")))
		}
		_ = w.Flush()
	}
	if len(s.Recommendations) > 1 {
		fmt.Fprintf(out, "  Alternatives:\n")
		for _, alt := range s.Recommendations[1:] {
			fmt.Fprintf(out, "    - %s (risk %s, confidence %s)\n", alt.Action, orNone(string(alt.RiskLevel)), percent(alt.Confidence))
		}
	}
}

func renderApproval(out io.Writer, r *Remediation, now time.Time) {
	var ap *aiv1.ApprovalStatus
	if r.Analysis != nil {
		ap = r.Analysis.Status.Approval
	}
	ar := r.Approval
	if ap == nil && ar == nil {
		return
	}
	if ar != nil {
		fmt.Fprintf(out, "\nApproval: (AIApprovalRequest %s)\n", ar.Name)
	} else {
		fmt.Fprintf(out, "\nApproval:\n")
	}
	w := newTable(out)
	if ap != nil {
		req := "no"
		if ap.Required {
			req = "yes"
		}
		if ap.Reason != "" {
			req += ": " + oneLine(ap.Reason, 200)
		}
		fmt.Fprintf(w, "  Required:\t%s\n", req)
	}
	decision, by, at, msg := aiv1.DecisionNone, "", (*metav1.Time)(nil), ""
	if ap != nil {
		decision, by, at = ap.Decision, ap.DecidedBy, ap.DecidedAt
	}
	if ar != nil {
		fmt.Fprintf(w, "  Action:\t%s (confidence %s)\n", orNone(ar.Spec.Recommendation.Action), percent(ar.Spec.Confidence))
		deadline := timestamp(&ar.Spec.RequiredBy)
		if ar.Status.Decision == "" && !ar.Spec.RequiredBy.IsZero() {
			if now.After(ar.Spec.RequiredBy.Time) {
				deadline += " (expired " + age(now, ar.Spec.RequiredBy) + " ago)"
			} else {
				deadline += " (in " + positiveDuration(ar.Spec.RequiredBy.Sub(now)) + ")"
			}
		}
		fmt.Fprintf(w, "  Required by:\t%s\n", deadline)
		if ar.Status.Decision != "" {
			decision, by, at, msg = ar.Status.Decision, ar.Status.DecidedBy, ar.Status.DecidedAt, ar.Status.Message
		}
	}
	switch {
	case decision != "":
		line := string(decision)
		if by != "" {
			line += " by " + by
		}
		if at != nil {
			line += " at " + timestamp(at)
		}
		fmt.Fprintf(w, "  Decision:\t%s\n", line)
		if msg != "" {
			fmt.Fprintf(w, "  Reason:\t%s\n", oneLine(msg, 300))
		}
	case ar != nil && now.After(ar.Spec.RequiredBy.Time):
		fmt.Fprintf(w, "  Decision:\tnone (expired)\n")
	case ar != nil:
		fmt.Fprintf(w, "  Decision:\tpending: kubectl kubernaut approve %s -n %s | reject %s -n %s --reason ...\n", r.Request.Name, r.Request.Namespace, r.Request.Name, r.Request.Namespace)
	}
	_ = w.Flush()
}

func positiveDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return shortDuration(d)
}

func renderOperations(out io.Writer, r *Remediation) {
	var ops []common.Operation
	results := map[string]*kev1.OperationResult{}
	validations := map[string]*workflowv1.ValidationResult{}
	if r.Workflow != nil {
		for i := range r.Workflow.Status.ValidationResults {
			validations[r.Workflow.Status.ValidationResults[i].Step] = &r.Workflow.Status.ValidationResults[i]
		}
	}
	switch {
	case r.Execution != nil:
		ke := r.Execution
		header := fmt.Sprintf("\nOperations: (KubernetesExecution %s, %s", ke.Name, orNone(string(ke.Status.Phase)))
		if ke.Spec.ExecutionConfig.DryRun {
			header += ", dry run"
		}
		fmt.Fprintf(out, "%s)\n", header)
		if ke.Status.Message != "" {
			fmt.Fprintf(out, "  Message: %s\n", oneLine(ke.Status.Message, 200))
		}
		ops = ke.Spec.Operations
		for i := range ke.Status.OperationResults {
			results[ke.Status.OperationResults[i].Name] = &ke.Status.OperationResults[i]
		}
	case r.Workflow != nil:
		wfe := r.Workflow
		header := fmt.Sprintf("\nOperations: (planned by WorkflowExecution %s, %s", wfe.Name, orNone(string(wfe.Status.Phase)))
		if wfe.Spec.ExecutionConfig.DryRun || wfe.Status.DryRun {
			header += ", dry run"
		}
		if wfe.Status.EstimatedDuration != nil {
			header += ", at most " + shortDuration(wfe.Status.EstimatedDuration.Duration)
		}
		fmt.Fprintf(out, "%s)\n", header)
		if wfe.Status.Message != "" {
			fmt.Fprintf(out, "  Message: %s\n", oneLine(wfe.Status.Message, 200))
		}
		ops = wfe.Status.Operations
		for _, v := range wfe.Status.ValidationResults {
			if !v.Valid {
				reason := ""
				if v.Reason != "" {
					reason = " (" + v.Reason + ")"
				}
				fmt.Fprintf(out, "  Invalid step %s%s: %s\n", v.Step, reason, oneLine(v.Message, 200))
			}
		}
	default:
		return
	}
	if len(ops) == 0 {
		fmt.Fprintf(out, "  (no operations)\n")
		return
	}
	for _, op := range ops {
		phase, started, took := "Planned", "-", "-"
		res := results[op.Name]
		if res != nil {
			phase = string(res.Phase)
			started = timestamp(res.StartTime)
			took = "took " + dur(res.StartTime, res.CompletionTime)
			if res.CompletionTime == nil {
				took = "not finished"
			}
		} else if r.Execution != nil {
			phase = string(kev1.OperationPending)
		}
		fmt.Fprintf(out, "  %s: %s %s\n", op.Name, op.Action, targetString(op.Target))
		w := newTable(out)
		if started == "-" {
			fmt.Fprintf(w, "    Phase:\t%s\n", phase)
		} else {
			fmt.Fprintf(w, "    Phase:\t%s (started %s, %s)\n", phase, started, took)
		}
		fmt.Fprintf(w, "    Parameters:\t%s\n", kv(op.Parameters))
		if len(op.DependsOn) > 0 {
			fmt.Fprintf(w, "    Depends on:\t%s\n", strings.Join(op.DependsOn, ", "))
		}
		v := validations[op.Name]
		if v != nil && len(v.Checks) > 0 {
			checks := make([]string, 0, len(v.Checks))
			for _, c := range v.Checks {
				mark := "ok"
				if !c.Passed {
					mark = "FAILED"
				}
				checks = append(checks, string(c.Type)+" "+mark)
			}
			fmt.Fprintf(w, "    Checks:\t%s\n", strings.Join(checks, ", "))
		}
		if res != nil && res.Message != "" {
			fmt.Fprintf(w, "    Result:\t%s\n", oneLine(res.Message, 300))
		}
		if res != nil && res.Reason != "" {
			fmt.Fprintf(w, "    Reason:\t%s\n", res.Reason)
		}
		if res != nil && res.AppliedTime != nil {
			fmt.Fprintf(w, "    Applied:\t%s\n", timestamp(res.AppliedTime))
		}
		if res != nil && res.Rollback != nil {
			rb := "not available"
			if res.Rollback.Available {
				rb = "available"
			}
			fmt.Fprintf(w, "    Rollback:\t%s\n", rb)
		}
		_ = w.Flush()
		switch {
		case res != nil && strings.TrimSpace(res.DryRunResult) != "":
			fmt.Fprintf(out, "    Dry-run diff:\n")
			indent(out, res.DryRunResult)
		case v != nil && len(v.Diff) > 0:
			changes := make([]objdiff.Change, len(v.Diff))
			for i, d := range v.Diff {
				changes[i] = objdiff.Change{Path: d.Path, Before: d.Before, After: d.After}
			}
			text := objdiff.Format(changes, 0)
			if v.DiffOmitted > 0 {
				text += fmt.Sprintf("\n… %d more", v.DiffOmitted)
			}
			fmt.Fprintf(out, "    Dry-run diff (validated by the workflow):\n")
			indent(out, text)
		}
		if res != nil && res.Rollback != nil && res.Rollback.PreviousState != "" {
			fmt.Fprintf(out, "    Before: %s\n", oneLine(res.Rollback.PreviousState, 300))
		}
	}
}

// renderVerification shows the evidence of the outcome: when the change was made, the window,
// each check with its source, result and what it saw, and the conclusion.
func renderVerification(out io.Writer, r *Remediation, now time.Time) {
	v := r.Request.Status.Verification
	if v == nil {
		return
	}
	header := "\nVerification:"
	var parts []string
	if v.ChangeTime != nil {
		parts = append(parts, "change at "+timestamp(v.ChangeTime))
	}
	if v.Window != nil {
		w := "window " + shortDuration(v.Window.Duration)
		if v.ChangeTime != nil {
			end := v.ChangeTime.Add(v.Window.Duration)
			w += ", until " + end.UTC().Format(time.RFC3339)
			if r.Request.Status.OverallPhase == remediationv1.PhaseVerifying && end.After(now) {
				w += " (in " + positiveDuration(end.Sub(now)) + ")"
			}
		}
		parts = append(parts, w)
	}
	if len(parts) > 0 {
		header += " (" + strings.Join(parts, ", ") + ")"
	}
	fmt.Fprintf(out, "%s\n", header)
	if v.Conclusion != "" {
		fmt.Fprintf(out, "  Conclusion: %s\n", oneLine(v.Conclusion, 300))
	}
	if len(v.Checks) == 0 {
		fmt.Fprintf(out, "  (no evidence yet)\n")
		return
	}
	w := newTable(out)
	fmt.Fprintf(w, "  CHECK\tSOURCE\tRESULT\tSINCE\tOBSERVED\n")
	for _, c := range v.Checks {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\n", c.Name, c.Source, c.Result, timestamp(&c.Time), orNone(oneLine(c.Observed, 200)))
	}
	_ = w.Flush()
}

func indent(out io.Writer, text string) {
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		fmt.Fprintf(out, "      %s\n", line)
	}
}

func renderNotifications(out io.Writer, r *Remediation) {
	if len(r.Notifications) == 0 {
		return
	}
	fmt.Fprintf(out, "\nNotifications:\n")
	w := newTable(out)
	fmt.Fprintf(w, "  NAME\tTYPE\tPHASE\tDELIVERY\tSENT\n")
	var failures []string
	for i := range r.Notifications {
		n := &r.Notifications[i]
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\n", n.Name, n.Spec.Type, orNone(string(n.Status.Phase)), delivery(n), timestamp(n.Status.SentAt))
		for _, a := range n.Status.DeliveryAttempts {
			if a.Status == notificationv1.DeliveryFailed && a.Error != "" {
				failures = append(failures, fmt.Sprintf("%s %s attempt %d at %s: %s", n.Name, a.Channel, a.Attempt, timestamp(&a.Time), oneLine(a.Error, 160)))
			}
		}
	}
	_ = w.Flush()
	if len(failures) > 0 {
		fmt.Fprintf(out, "  Failed attempts:\n")
		for _, f := range failures {
			fmt.Fprintf(out, "    - %s\n", f)
		}
	}
}

// delivery summarises the attempts per channel: "slack ok, email failed×3".
func delivery(n *notificationv1.NotificationRequest) string {
	type state struct {
		attempts int
		last     notificationv1.DeliveryStatus
	}
	per := map[notificationv1.Channel]*state{}
	for _, a := range n.Status.DeliveryAttempts {
		s := per[a.Channel]
		if s == nil {
			s = &state{}
			per[a.Channel] = s
		}
		s.attempts++
		s.last = a.Status
	}
	channels := append([]notificationv1.Channel(nil), n.Spec.Channels...)
	for ch := range per {
		found := false
		for _, c := range channels {
			found = found || c == ch
		}
		if !found {
			channels = append(channels, ch)
		}
	}
	sort.Slice(channels, func(i, j int) bool { return channels[i] < channels[j] })
	if len(channels) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(channels))
	for _, ch := range channels {
		s := per[ch]
		switch {
		case s == nil:
			parts = append(parts, string(ch)+" pending")
		case s.last == notificationv1.DeliverySuccess && s.attempts == 1:
			parts = append(parts, string(ch)+" ok")
		case s.last == notificationv1.DeliverySuccess:
			parts = append(parts, fmt.Sprintf("%s ok after %d attempts", ch, s.attempts))
		default:
			parts = append(parts, fmt.Sprintf("%s failed×%d", ch, s.attempts))
		}
	}
	return strings.Join(parts, ", ")
}

func renderEscalations(out io.Writer, r *Remediation) {
	es := r.Request.Status.Escalations
	if len(es) == 0 {
		return
	}
	fmt.Fprintf(out, "\nEscalations:\n")
	w := newTable(out)
	fmt.Fprintf(w, "  PHASE\tREASON\tSENT\tNOTIFICATION\n")
	for i := range es {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", es[i].Phase, es[i].Reason, timestamp(&es[i].Time), orNone(es[i].NotificationName))
	}
	_ = w.Flush()
}

func renderAudit(out io.Writer, r *Remediation) {
	a := &r.Request.Status.Audit
	fmt.Fprintf(out, "\nAudit:\n")
	w := newTable(out)
	ack := "nothing yet"
	if a.LastAcknowledgedPhase != "" {
		ack = "through " + string(a.LastAcknowledgedPhase)
	}
	fmt.Fprintf(w, "  Acknowledged:\t%s\n", ack)
	if a.Pending || len(a.PendingPhases) > 0 {
		phases := make([]string, 0, len(a.PendingPhases))
		for _, p := range a.PendingPhases {
			phases = append(phases, string(p.Phase))
		}
		line := "yes"
		if len(phases) > 0 {
			line = fmt.Sprintf("%d %s (%s)", len(phases), plural(len(phases), "phase change", "phase changes"), strings.Join(phases, ", "))
		}
		if a.Attempts > 0 {
			line += fmt.Sprintf(", %d failed deliveries", a.Attempts)
		}
		fmt.Fprintf(w, "  Pending:\t%s\n", line)
		if a.LastError != "" {
			fmt.Fprintf(w, "  Last error:\t%s\n", oneLine(a.LastError, 200))
		}
	} else {
		fmt.Fprintf(w, "  Pending:\tno\n")
	}
	_ = w.Flush()
}

func renderConditions(out io.Writer, conds []metav1.Condition) {
	if len(conds) == 0 {
		return
	}
	fmt.Fprintf(out, "\nConditions:\n")
	w := newTable(out)
	fmt.Fprintf(w, "  TYPE\tSTATUS\tREASON\tMESSAGE\n")
	for _, c := range conds {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", c.Type, c.Status, orNone(c.Reason), orNone(oneLine(c.Message, 120)))
	}
	_ = w.Flush()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
