package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/incident"
	"github.com/kubernaut/kubernaut/internal/launcher"
	"github.com/kubernaut/kubernaut/internal/timing"
	"github.com/kubernaut/kubernaut/internal/workload"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/httpclient"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

// demo plays one incident and prints what happens.
type demo struct {
	sys *launcher.System
	out *timing.Clock
	o   options

	in       *incident.Incident
	rrName   string
	posted   time.Time
	seen     map[string]bool   // one-time events already printed
	phases   map[string]string // object → last printed phase
	resolved bool
}

func (d *demo) c() client.Client { return d.sys.Cluster.Client }

func (d *demo) once(key string) bool {
	if d.seen[key] {
		return false
	}
	d.seen[key] = true
	return true
}

func (d *demo) play(ctx context.Context) error {
	d.seen, d.phases = map[string]bool{}, map[string]string{}
	if d.o.requireApproval {
		restore, err := incident.SetApprovalPolicy(ctx, d.c(), incident.RequireApprovalPolicy)
		if err != nil {
			return fmt.Errorf("setting the approval policy: %w", err)
		}
		defer func() { _ = restore() }()
		d.out.Printf("approval policy: every recommendation needs a person's approval (--require-approval)")
	}
	var err error
	switch d.o.scenario {
	case "oom":
		d.out.Printf("staging the incident: namespace shop (managed, production), Deployment checkout (2 replicas, memory limit %s, allocates %s at start)", incident.OOMLimit, incident.OOMAllocation)
		d.in, err = incident.OOM(ctx, d.sys.Cluster, "shop", incident.NamespaceOptions{})
		if err == nil {
			d.out.Printf("pod %s: container %s OOMKilled (exit 137), CrashLoopBackOff — as the kubelet reports it (kwok plays the kubelet here)", d.in.Pod, d.in.Container)
		}
	case "crashloop":
		d.out.Printf("staging the incident: namespace shop (managed, production), Deployment checkout %s running, then rolled out to %s", workload.GoodTag, workload.BadTag)
		d.in, err = incident.CrashLoop(ctx, d.sys.Cluster, "shop", incident.NamespaceOptions{})
		if err == nil {
			d.out.Printf("pod %s (checkout %s): container %s exits with code 1 at every start, CrashLoopBackOff", d.in.Pod, workload.BadTag, d.in.Container)
		}
	case "node-notready":
		d.out.Printf("staging the incident: node worker-3 (managed) joins Ready, then its kubelet stops reporting Ready")
		d.in, err = incident.NodeNotReady(ctx, d.sys.Cluster, "worker-3")
		if err == nil {
			d.out.Printf("node %s: Ready=False (KubeletNotReady)", d.in.Node)
		}
	}
	if err != nil {
		return fmt.Errorf("staging the incident: %w", err)
	}

	code, resp, err := incident.Post(ctx, d.sys, d.in.Webhook(false))
	if err != nil {
		return fmt.Errorf("posting the alert: %w", err)
	}
	d.posted = time.Now()
	if code != http.StatusCreated || len(resp.Results) != 1 || resp.Results[0].RemediationRequest == "" {
		return fmt.Errorf("the gateway answered %d %+v", code, resp)
	}
	d.rrName = resp.Results[0].RemediationRequest
	d.out.Printf("ALERT %s posted to the gateway (Alertmanager webhook, bearer token) → %d Created: RemediationRequest %s", d.in.AlertName, code, d.rrName)
	fmt.Println()

	deadline := time.After(d.o.timeout)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		done, err := d.step(ctx)
		if err != nil {
			return err
		}
		if done {
			d.awaitNotifications(ctx)
			return d.finish(ctx)
		}
		select {
		case <-ctx.Done():
			d.out.Printf("interrupted")
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("the remediation did not end within %s (see the logs)", d.o.timeout)
		case <-tick.C:
		}
	}
}

// since is the time since the alert was posted.
func (d *demo) since() string { return fmt.Sprintf("+%.1fs", time.Since(d.posted).Seconds()) }

// phase prints a phase change of an object once.
func (d *demo) phase(object, phase, detail string) {
	if phase == "" || d.phases[object] == phase {
		return
	}
	d.phases[object] = phase
	if detail != "" {
		detail = " — " + detail
	}
	d.out.Printf("%-8s %-36s %s%s", d.since(), object, phase, detail)
}

func get[T client.Object](ctx context.Context, c client.Client, name string, obj T) (T, bool) {
	err := c.Get(ctx, client.ObjectKey{Namespace: launcher.SystemNamespace, Name: name}, obj)
	return obj, err == nil
}

// step reads the request and its children and prints what changed; true when the request ended.
func (d *demo) step(ctx context.Context) (bool, error) {
	rr, ok := get(ctx, d.c(), d.rrName, &remediationv1.RemediationRequest{})
	if !ok {
		return false, nil
	}
	st := rr.Status
	detail := ""
	if st.OverallPhase.IsTerminal() {
		detail = fmt.Sprintf("outcome %s", st.Outcome)
		if st.TimeoutPhase != "" {
			detail += fmt.Sprintf(", timed out in %s", st.TimeoutPhase)
		}
		if st.FailureReason != "" {
			detail += ", " + st.FailureReason
		}
	}
	d.phase("RemediationRequest "+rr.Name, string(st.OverallPhase), detail)

	if ref := st.RemediationProcessingRef; ref != nil {
		if rp, ok := get(ctx, d.c(), ref.Name, &processingv1.RemediationProcessing{}); ok {
			d.phase("  RemediationProcessing", string(rp.Status.Phase), "")
			if e := rp.Status.EnrichedSignal; e != nil && d.once("enriched") {
				d.out.Printf("%-8s   enriched: environment %s, priority %s, target %s %s/%s", d.since(), e.Environment, e.BusinessPriority, e.ResourceKind, e.Namespace, e.ResourceName)
			}
		}
	}
	if ref := st.AIAnalysisRef; ref != nil {
		if aia, ok := get(ctx, d.c(), ref.Name, &aiv1.AIAnalysis{}); ok {
			d.phase("  AIAnalysis", string(aia.Status.Phase), "")
			d.analysis(aia)
		}
	}
	if st.OverallPhase == remediationv1.PhaseAwaitingApproval && d.once("approval-wait") {
		if d.o.approveAs != "" && !d.o.requireApproval {
			if err := d.approve(ctx, rr); err != nil {
				return false, err
			}
		} else {
			d.approvalHelp(ctx, rr)
		}
	}
	if ref := st.WorkflowExecutionRef; ref != nil {
		if wfe, ok := get(ctx, d.c(), ref.Name, &workflowv1.WorkflowExecution{}); ok {
			d.phase("  WorkflowExecution", string(wfe.Status.Phase), "")
			d.workflow(wfe)
		}
	}
	if ref := st.KubernetesExecutionRef; ref != nil {
		if ke, ok := get(ctx, d.c(), ref.Name, &kev1.KubernetesExecution{}); ok {
			d.phase("  KubernetesExecution", string(ke.Status.Phase), "")
			for _, r := range ke.Status.OperationResults {
				d.phase("    operation "+r.Name, string(r.Phase), r.Message)
			}
			if ke.Status.Phase == kev1.PhaseCompleted {
				d.rollout(ctx)
			}
		}
	}
	d.notifications(ctx)
	return st.OverallPhase.IsTerminal(), nil
}

func (d *demo) analysis(aia *aiv1.AIAnalysis) {
	s := aia.Status
	if s.RootCause != "" && d.once("rootcause") {
		d.out.Printf("%-8s   root cause (%s, confidence %.2f): %s", d.since(), s.Provider, s.Confidence, s.RootCause)
		for _, e := range s.Evidence {
			d.out.Printf("%-8s     evidence: %s", "", e)
		}
	}
	if len(s.Recommendations) > 0 && d.once("recommendation") {
		r := s.Recommendations[0]
		d.out.Printf("%-8s   action: %s (risk %s, confidence %.2f) %s", d.since(), r.Action, r.RiskLevel, r.Confidence, r.Rationale)
		for _, step := range r.WorkflowSteps {
			d.out.Printf("%-8s     step %s: %s %s", "", step.Name, step.Action, params(step.Parameters))
		}
	}
	if a := s.Approval; a != nil && a.Required && d.once("approval-required") {
		d.out.Printf("%-8s   approval required: %s", d.since(), a.Reason)
	}
	if a := s.Approval; a != nil && a.Decision != "" && d.once("approval-decided") {
		d.out.Printf("%-8s   decision: %s by %s", d.since(), a.Decision, a.DecidedBy)
	}
}

func params(p map[string]string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + p[k]
	}
	return strings.Join(parts, " ")
}

func (d *demo) workflow(wfe *workflowv1.WorkflowExecution) {
	if len(wfe.Status.Operations) > 0 && d.once("operations") {
		for _, op := range wfe.Status.Operations {
			t := op.Target
			d.out.Printf("%-8s   operation %s: %s on %s %s/%s %s", d.since(), op.Name, op.Action, t.Kind, t.Namespace, t.Name, params(op.Parameters))
		}
	}
	for _, v := range wfe.Status.ValidationResults {
		if len(v.Diff) == 0 || !d.once("diff-"+v.Step) {
			continue
		}
		d.out.Printf("%-8s   dry-run diff of step %s (server-side dry run):", d.since(), v.Step)
		for _, c := range v.Diff {
			d.out.Printf("%-8s     %s: %s → %s", "", c.Path, orNone(c.Before), orNone(c.After))
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// rollout prints the Deployment's new memory limit and its new pods once they run, then sends
// Alertmanager's resolved notification.
func (d *demo) rollout(ctx context.Context) {
	if d.in.Node != "" && d.once("node") {
		n := &corev1.Node{}
		if err := d.c().Get(ctx, client.ObjectKey{Name: d.in.Node}, n); err == nil {
			d.out.Printf("%-8s   node %s: unschedulable=%t (no new pods are placed on it); Verifying waits for the alert to resolve or the stabilization window", d.since(), n.Name, n.Spec.Unschedulable)
		}
	}
	if d.in.Deployment == "" || d.resolved {
		return
	}
	dep := &appsv1.Deployment{}
	if err := d.c().Get(ctx, client.ObjectKey{Namespace: d.in.Namespace, Name: d.in.Deployment}, dep); err != nil {
		return
	}
	if d.once("limit") {
		for _, c := range dep.Spec.Template.Spec.Containers {
			if c.Name == d.in.Container {
				lim := c.Resources.Limits[corev1.ResourceMemory]
				if d.in.Kind == "oom" {
					d.out.Printf("%-8s   Deployment %s/%s: container %s memory limit %s → %s (generation %d)", d.since(), dep.Namespace, dep.Name, c.Name, d.in.MemoryLimit.String(), lim.String(), dep.Generation)
				} else {
					d.out.Printf("%-8s   Deployment %s/%s: container %s image %s, memory limit %s (generation %d)", d.since(), dep.Namespace, dep.Name, c.Name, c.Image, lim.String(), dep.Generation)
				}
			}
		}
	}
	want := int32(1)
	if dep.Spec.Replicas != nil {
		want = *dep.Spec.Replicas
	}
	if dep.Status.ObservedGeneration < dep.Generation || dep.Status.UpdatedReplicas != want || dep.Status.AvailableReplicas != want || dep.Status.Replicas != want {
		return
	}
	pods, err := incident.RunningPods(ctx, d.c(), dep)
	if err != nil || int32(len(pods)) != want {
		return
	}
	names := make([]string, 0, len(pods))
	for _, p := range pods {
		names = append(names, fmt.Sprintf("%s (%s)", p.Name, p.Spec.NodeName))
	}
	d.out.Printf("%-8s   new pods Running: %s", d.since(), strings.Join(names, ", "))
	code, _, err := incident.Post(ctx, d.sys, d.in.Webhook(true))
	if err == nil {
		d.out.Printf("%-8s   alert resolved: Alertmanager's resolved notification posted → %d", d.since(), code)
	}
	d.resolved = true
}

func (d *demo) notifications(ctx context.Context) {
	var list notificationv1.NotificationRequestList
	if err := d.c().List(ctx, &list, client.InNamespace(launcher.SystemNamespace)); err != nil {
		return
	}
	for _, nr := range list.Items {
		if nr.Spec.Metadata[notificationapi.MetaRemediationRequest] != d.rrName && !strings.HasPrefix(nr.Name, d.rrName+"-") {
			continue
		}
		switch nr.Status.Phase {
		case notificationv1.PhaseSent, notificationv1.PhasePartiallySent, notificationv1.PhaseFailed:
		default:
			continue
		}
		if !d.once("nr-" + nr.Name) {
			continue
		}
		// The last attempt of each channel says how it went.
		last := map[notificationv1.Channel]notificationv1.DeliveryAttempt{}
		for _, a := range nr.Status.DeliveryAttempts {
			last[a.Channel] = a
		}
		chans := make([]string, 0, len(nr.Spec.Channels))
		for _, c := range nr.Spec.Channels {
			a, ok := last[c]
			switch {
			case !ok:
				chans = append(chans, string(c)+" not attempted")
			case a.Status == notificationv1.DeliverySuccess:
				chans = append(chans, string(c)+" delivered")
			default:
				chans = append(chans, fmt.Sprintf("%s failed (%s)", c, firstLine(a.Error)))
			}
		}
		d.out.Printf("%-8s NOTIFICATION %s %s: %q — %s", d.since(), nr.Spec.Type, nr.Status.Phase, nr.Spec.Subject, strings.Join(chans, ", "))
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// awaitNotifications gives the notifications of the request's end a few seconds to be
// delivered, printing them as they are.
func (d *demo) awaitNotifications(ctx context.Context) {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		d.notifications(ctx)
		var list notificationv1.NotificationRequestList
		if err := d.c().List(ctx, &list, client.InNamespace(launcher.SystemNamespace)); err != nil {
			return
		}
		pending, final := false, false
		for _, nr := range list.Items {
			if nr.Spec.Metadata[notificationapi.MetaRemediationRequest] != d.rrName && !strings.HasPrefix(nr.Name, d.rrName+"-") {
				continue
			}
			switch nr.Spec.Type {
			case notificationv1.TypeCompletion, notificationv1.TypeEscalation, notificationv1.TypeManualReview:
				final = true
			}
			switch nr.Status.Phase {
			case notificationv1.PhaseSent, notificationv1.PhaseFailed, notificationv1.PhasePartiallySent:
			default:
				pending = true
			}
		}
		if final && !pending {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// approve plays the person a change waits for: a user bound to the shipped kubernaut-approver
// role runs the documented `kubectl kubernaut approve`.
func (d *demo) approve(ctx context.Context, rr *remediationv1.RemediationRequest) error {
	user := d.o.approveAs
	reason := "approval required"
	if ref := rr.Status.AIAnalysisRef; ref != nil {
		if aia, ok := get(ctx, d.c(), ref.Name, &aiv1.AIAnalysis{}); ok && aia.Status.Approval != nil && aia.Status.Approval.Reason != "" {
			reason = aia.Status.Approval.Reason
		}
	}
	d.out.Printf("%-8s WAITING for a person: %s", d.since(), reason)
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernaut-demo-approver-" + user},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "kubernaut-approver"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}
	if err := client.IgnoreAlreadyExists(d.c().Create(ctx, crb)); err != nil {
		return fmt.Errorf("binding %s to kubernaut-approver: %w", user, err)
	}
	kubeconfig, err := d.sys.Cluster.AddUser(user)
	if err != nil {
		return err
	}
	args := []string{"approve", rr.Name, "--reason", "reviewed in the demo (--approve-as " + user + ")"}
	cmd := exec.CommandContext(ctx, filepath.Join(d.sys.BinDir, launcher.Plugin), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("kubectl kubernaut %s as %s: %w: %s", strings.Join(args, " "), user, err, out)
	}
	d.out.Printf("%-8s APPROVED by %s (the demo plays the person; --approve-as=\"\" or --require-approval to decide yourself): kubectl kubernaut %s", d.since(), user, strings.Join(args[:2], " "))
	return nil
}

// approvalHelp prints how to approve, and says the demo waits.
func (d *demo) approvalHelp(ctx context.Context, rr *remediationv1.RemediationRequest) {
	aiarName := ""
	if ref := rr.Status.AIAnalysisRef; ref != nil {
		if aia, ok := get(ctx, d.c(), ref.Name, &aiv1.AIAnalysis{}); ok && aia.Status.Approval != nil && aia.Status.Approval.ApprovalRequestRef != nil {
			aiarName = aia.Status.Approval.ApprovalRequestRef.Name
		}
	}
	fmt.Println()
	d.out.Printf("WAITING for a person's decision. In another terminal:")
	fmt.Printf("    export KUBECONFIG=%s PATH=%s:$PATH\n", d.sys.Cluster.Kubeconfig, d.sys.BinDir)
	fmt.Printf("    kubectl kubernaut describe %s\n", rr.Name)
	fmt.Printf("    kubectl kubernaut approve %s --reason \"looks right\"     # or: kubectl kubernaut reject %s --reason \"...\"\n", rr.Name, rr.Name)
	if aiarName != "" {
		fmt.Printf("  or without the plugin:\n    %s\n", notificationapi.DecisionCommand(launcher.SystemNamespace, aiarName, string(aiv1.DecisionApproved)))
	}
	fmt.Println()
}

// finish prints the audit record read back from datastorage.
func (d *demo) finish(ctx context.Context) error {
	fmt.Println()
	d.out.Printf("reading the audit record back from datastorage (GET %s/%s)", auditapi.RemediationPath, d.rrName)
	c := httpclient.New(d.sys.Services["datastorage"].URL(), d.sys.ReaderTokenFile)
	var rec auditapi.RemediationAudit
	var err error
	for range 50 { // the orchestrator's audit outbox may still be flushing the final phase
		err = c.Do(ctx, http.MethodGet, auditapi.RemediationPath+"/"+d.rrName, nil, &rec)
		rr, ok := get(ctx, d.c(), d.rrName, &remediationv1.RemediationRequest{})
		if err == nil && ok && rec.OverallPhase == string(rr.Status.OverallPhase) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("reading the audit record: %w", err)
	}
	fmt.Printf("  remediation %s: %s %s, outcome %s, target %s, priority %s\n", rec.RemediationName, rec.SignalName, rec.OverallPhase, orNone(rec.Outcome), rec.TargetResource, rec.Priority)
	if rec.CompletionTime != nil {
		fmt.Printf("  started %s, finished %s (%s)\n", rec.StartTime.Format(time.RFC3339), rec.CompletionTime.Format(time.RFC3339), rec.CompletionTime.Sub(rec.StartTime))
	}
	statuses := slices.Clone(rec.ServiceCRDStatuses)
	sort.SliceStable(statuses, func(i, j int) bool { return statuses[i].StartTime.Before(statuses[j].StartTime) })
	for _, s := range statuses {
		fmt.Printf("  %-22s %-40s %s\n", s.ServiceType, s.CRDName, s.Phase)
	}
	if a := rec.Approval; a != nil && a.Required {
		fmt.Printf("  approval: %s by %s\n", orNone(a.Decision), orNone(a.DecidedBy))
	}
	for _, op := range rec.Operations {
		fmt.Printf("  operation %s: %s %s %s → %s\n", op.Name, op.Action, op.Target, params(op.Params), op.Phase)
		for _, line := range strings.Split(op.Message, "\n") {
			fmt.Printf("      %s\n", line)
		}
	}
	if rec.FailureReason != nil {
		fmt.Printf("  failure: %s\n", *rec.FailureReason)
	}
	fmt.Println()
	return nil
}
