package kubectlplugin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/plugintest"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
	"github.com/kubernaut/kubernaut/pkg/shared/objdiff"
)

// t0 is when the fixtures' signals were received; goldens are rendered at fixedNow.
var (
	t0       = plugintest.T0
	fixedNow = t0.Add(30 * time.Minute)
	at, atp  = plugintest.At, plugintest.Atp
)

// Phase start offsets of the fixtures.
const (
	offProcessing = plugintest.OffProcessing
	offAnalyzing  = plugintest.OffAnalyzing
	offApproval   = 40 * time.Second
	offPlanning   = 3*time.Minute + 40*time.Second
	offExecuting  = 3*time.Minute + 50*time.Second
	offVerifying  = 4*time.Minute + 20*time.Second
	offDone       = 9*time.Minute + 20*time.Second
)

var (
	target      = plugintest.Target
	ref         = plugintest.Ref
	request     = plugintest.Request
	oomAnalysis = plugintest.OOMAnalysis
)

func cond(typ string, status metav1.ConditionStatus, reason, msg string, at metav1.Time) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg, LastTransitionTime: at}
}

// world is a set of objects with their status, created in order.
type world struct{ objs []client.Object }

func (w *world) add(objs ...client.Object) { w.objs = append(w.objs, objs...) }

// create creates every object and then writes its status through the status subresource.
func (w *world) create(t *testing.T, c client.Client) {
	t.Helper()
	ctx := context.Background()
	for _, obj := range w.objs {
		plugintest.CreateWithStatus(t, env, ctx, c, obj)
	}
}

func kubernetesContext() *common.KubernetesContext {
	return &common.KubernetesContext{
		CollectedAt:     atp(5 * time.Second),
		NamespaceLabels: map[string]string{"kubernaut.io/managed": "true"},
		OwnerChain:      []common.TargetResource{{Kind: "ReplicaSet", Namespace: "shop", Name: "web-7d9f8"}, {Kind: "Deployment", Namespace: "shop", Name: "web"}},
		Workload: &common.WorkloadSummary{
			Kind: "Deployment", Name: "web", Replicas: ptr.To[int32](3), ReadyReplicas: 1, UpdatedReplicas: 3, AvailableReplicas: 1,
			Conditions: []common.ConditionSummary{{Type: "Available", Status: "False", Reason: "MinimumReplicasUnavailable", Message: "Deployment does not have minimum availability."}},
			Containers: []common.ContainerSpecSummary{{Name: "app", Image: "shop/web:2.4.1", Requests: map[string]string{"memory": "128Mi"}, Limits: map[string]string{"memory": "256Mi"}}},
			GitOps:     &common.GitOpsSource{Tool: "Flux", Kind: "Kustomization", Namespace: "flux-system", Name: "apps"},
		},
		Rollout: &common.RolloutHistory{
			Current:       &common.RevisionSummary{Revision: 7, Name: "web-7d9f8", Images: []string{"app=shop/web:2.4.1"}, BecameCurrentAt: atp(-3 * time.Hour), Replicas: 3, ReadyReplicas: 1},
			Previous:      &common.RevisionSummary{Revision: 6, Name: "web-6c4b2", Images: []string{"app=shop/web:2.4.0"}},
			RevisionCount: 7,
		},
		Pods: []common.PodSummary{{
			Name: "web-7d9f8-abcde", Phase: "Running", NodeName: "node-1", Owner: "ReplicaSet/web-7d9f8",
			Containers: []common.ContainerSummary{{Name: "app", RestartCount: 5, State: "waiting", Reason: "CrashLoopBackOff", LastTerminationReason: "OOMKilled", LastExitCode: ptr.To[int32](137)}},
		}},
		Nodes: []common.NodeSummary{{Name: "node-1", Ready: "True", PodCount: 12, Taints: []string{"dedicated=web:NoSchedule"}}},
		HPA: &common.HPASummary{Name: "web", MinReplicas: 2, MaxReplicas: 3, CurrentReplicas: 3, DesiredReplicas: 3, AtMaximum: true,
			Controller: &common.TargetResource{APIVersion: "keda.sh/v1alpha1", Kind: "ScaledObject", Namespace: "shop", Name: "web"}},
		RecentEvents: []common.EventSummary{
			{Type: "Warning", Reason: "BackOff", Message: "Back-off restarting failed container app", Object: "Pod/web-7d9f8-abcde", Count: 12},
		},
	}
}

func processing(rr *remediationv1.RemediationRequest, phase processingv1.Phase) *processingv1.RemediationProcessing {
	name := rr.Name + "-processing"
	rr.Status.RemediationProcessingRef = ptr.To(ref(rr.Namespace, name))
	rp := &processingv1.RemediationProcessing{
		ObjectMeta: metav1.ObjectMeta{Namespace: rr.Namespace, Name: name},
		Spec: processingv1.RemediationProcessingSpec{
			RemediationRequestRef: ref(rr.Namespace, rr.Name),
			Alert:                 processingv1.Alert{Fingerprint: rr.Spec.SignalFingerprint, Severity: "critical", SignalName: rr.Spec.SignalName, TargetResource: target()},
		},
		Status: processingv1.RemediationProcessingStatus{Phase: phase, StartTime: atp(offProcessing)},
	}
	if phase == processingv1.PhaseCompleted {
		rp.Status.CompletionTime = atp(offAnalyzing)
		rp.Status.EnrichedSignal = &processingv1.EnrichedSignal{
			Fingerprint: rr.Spec.SignalFingerprint, Severity: "critical", Environment: "production", BusinessPriority: "P0",
			Namespace: "shop", ResourceKind: "Deployment", ResourceName: "web", KubernetesContext: kubernetesContext(),
			EnvironmentSource: processingv1.EnvironmentFromNamespaceLabel, PriorityRule: "table:critical/production",
		}
	}
	return rp
}

func increaseMemory() aiv1.Recommendation {
	return aiv1.Recommendation{
		ID: "r1", Action: string(actions.IncreaseResources), Confidence: 0.9, RiskLevel: aiv1.RiskMedium,
		Description: "Raise the memory of container app to 512Mi",
		Rationale:   "app was OOMKilled 5 times at its 256Mi limit",
		WorkflowSteps: []common.WorkflowStep{{
			Name: "raise-memory", Action: string(actions.IncreaseResources), Target: ptr.To(target()),
			Parameters: map[string]string{"container": "app", "memory": "512Mi", "memoryLimit": "512Mi"},
		}},
	}
}

// analysis adds the AIAnalysis; approvalName is the AIApprovalRequest it names ("" for none).
func analysis(rr *remediationv1.RemediationRequest, phase aiv1.Phase, approvalName string) *aiv1.AIAnalysis {
	name := rr.Name + "-analysis"
	rr.Status.AIAnalysisRef = ptr.To(ref(rr.Namespace, name))
	aia := &aiv1.AIAnalysis{
		ObjectMeta: metav1.ObjectMeta{Namespace: rr.Namespace, Name: name},
		Spec: aiv1.AIAnalysisSpec{
			RemediationRequestRef: ref(rr.Namespace, rr.Name),
			AnalysisRequest: aiv1.AnalysisRequest{AlertContext: aiv1.SignalContext{
				Fingerprint: rr.Spec.SignalFingerprint, SignalName: rr.Spec.SignalName, Severity: "critical", Environment: "production",
				BusinessPriority: "P0", Namespace: "shop", ResourceKind: "Deployment", ResourceName: "web",
			}},
		},
		Status: aiv1.AIAnalysisStatus{Phase: phase, StartTime: atp(offAnalyzing), Provider: "builtin"},
	}
	if phase == aiv1.PhaseInvestigating {
		return aia
	}
	aia.Status.RootCause = "The memory limit of container app (256Mi) is below its working set; the kernel kills it under normal load."
	aia.Status.InvestigationSummary = "5 OOMKilled restarts since revision 7; no change of image memory use between revisions 6 and 7."
	aia.Status.Evidence = []string{"app last terminated OOMKilled (exit 137), 5 restarts", "memory limit 256Mi, request 128Mi", "Warning BackOff ×12 on Pod/web-7d9f8-abcde"}
	aia.Status.Confidence = 0.86
	aia.Status.Outcome = aiv1.OutcomeActionRecommended
	aia.Status.RiskLevel = aiv1.RiskMedium
	aia.Status.Recommendations = []aiv1.Recommendation{increaseMemory(), {ID: "r2", Action: string(actions.RolloutRestart), Confidence: 0.3, RiskLevel: aiv1.RiskLow}}
	aia.Status.Approval = &aiv1.ApprovalStatus{Required: approvalName != ""}
	if approvalName != "" {
		aia.Status.Approval.Reason = "production environment and medium risk"
		aia.Status.Approval.ApprovalRequestRef = ptr.To(ref(rr.Namespace, approvalName))
	}
	if phase == aiv1.PhaseApproving {
		aia.Status.Conditions = []metav1.Condition{cond(aiv1.ConditionApprovalRequired, metav1.ConditionTrue, aiv1.ReasonAwaitingDecision, "waiting for a human decision", at(offApproval))}
	} else {
		aia.Status.CompletionTime = atp(offPlanning)
	}
	return aia
}

func approvalRequest(rr *remediationv1.RemediationRequest, name string, requiredBy metav1.Time) *aiv1.AIApprovalRequest {
	return &aiv1.AIApprovalRequest{
		ObjectMeta: metav1.ObjectMeta{Namespace: rr.Namespace, Name: name},
		Spec: aiv1.AIApprovalRequestSpec{
			AIAnalysisRef: ref(rr.Namespace, rr.Name+"-analysis"), RemediationRequestRef: ref(rr.Namespace, rr.Name),
			Recommendation: increaseMemory(), Confidence: 0.86, Reason: "production environment and medium risk", RequiredBy: requiredBy,
		},
		Status: aiv1.AIApprovalRequestStatus{Phase: aiv1.ApprovalPhasePending},
	}
}

func planned() []common.Operation {
	return []common.Operation{{
		Name: "raise-memory", Action: string(actions.IncreaseResources), Target: target(), TargetUID: "0b9f6a4e-6f0e-4a8b-9d55-3c2f1e0a7b11",
		Parameters: map[string]string{"container": "app", "memory": "512Mi", "memoryLimit": "512Mi"},
	}, {
		Name: "restart", Action: string(actions.RolloutRestart), Target: target(), DependsOn: []string{"raise-memory"},
	}}
}

func workflow(rr *remediationv1.RemediationRequest, phase workflowv1.Phase) *workflowv1.WorkflowExecution {
	name := rr.Name + "-workflow"
	rr.Status.WorkflowExecutionRef = ptr.To(ref(rr.Namespace, name))
	wfe := &workflowv1.WorkflowExecution{
		ObjectMeta: metav1.ObjectMeta{Namespace: rr.Namespace, Name: name},
		Spec: workflowv1.WorkflowExecutionSpec{
			RemediationRequestRef: ref(rr.Namespace, rr.Name), TargetResource: ptr.To(target()),
			WorkflowDefinition: workflowv1.WorkflowDefinition{Steps: increaseMemory().WorkflowSteps},
		},
		Status: workflowv1.WorkflowExecutionStatus{Phase: phase, StartTime: atp(offPlanning)},
	}
	if phase == workflowv1.PhaseValidating || phase == workflowv1.PhaseCompleted {
		wfe.Status.Operations = planned()
		wfe.Status.ValidationResults = validated()
		wfe.Status.EstimatedDuration = &metav1.Duration{Duration: 10 * time.Minute}
	}
	if phase == workflowv1.PhaseCompleted {
		wfe.Status.CompletionTime = atp(offExecuting)
	}
	return wfe
}

// memoryChanges is what raising the memory of container app changes in the Deployment.
func memoryChanges() []objdiff.Change {
	return []objdiff.Change{
		{Path: "spec.template.spec.containers[name=app].resources.limits.memory", Before: `"256Mi"`, After: `"512Mi"`},
		{Path: "spec.template.spec.containers[name=app].resources.requests.memory", Before: `"128Mi"`, After: `"512Mi"`},
	}
}

// dryRunDiff is the executor's dry-run result, rendered as the executor renders it.
var dryRunDiff = objdiff.Format(memoryChanges(), 2048)

// validated is the workflow's validation of the raise-memory step, with its dry-run diff.
func validated() []workflowv1.ValidationResult {
	var diff []workflowv1.FieldChange
	for _, c := range memoryChanges() {
		diff = append(diff, workflowv1.FieldChange{Path: c.Path, Before: c.Before, After: c.After})
	}
	checks := []workflowv1.Check{
		{Type: workflowv1.CheckTargetExists, Passed: true}, {Type: workflowv1.CheckTargetResolves, Passed: true},
		{Type: workflowv1.CheckPermission, Passed: true}, {Type: workflowv1.CheckDryRun, Passed: true},
	}
	return []workflowv1.ValidationResult{
		{Step: "raise-memory", Valid: true, Checks: checks, Diff: diff},
		{Step: "restart", Valid: true, Checks: checks},
	}
}

func execution(rr *remediationv1.RemediationRequest, phase kev1.Phase, results ...kev1.OperationResult) *kev1.KubernetesExecution {
	name := rr.Name + "-execution"
	rr.Status.KubernetesExecutionRef = ptr.To(ref(rr.Namespace, name))
	ke := &kev1.KubernetesExecution{
		ObjectMeta: metav1.ObjectMeta{Namespace: rr.Namespace, Name: name},
		Spec:       kev1.KubernetesExecutionSpec{RemediationRequestRef: ref(rr.Namespace, rr.Name), Operations: planned()},
		Status:     kev1.KubernetesExecutionStatus{Phase: phase, StartTime: atp(offExecuting), OperationResults: results},
	}
	if phase == kev1.PhaseCompleted || phase == kev1.PhaseFailed || phase == kev1.PhaseRolledBack {
		ke.Status.CompletionTime = atp(offVerifying)
	}
	return ke
}

func raised() kev1.OperationResult {
	return kev1.OperationResult{
		Name: "raise-memory", Phase: kev1.OperationSucceeded, StartTime: atp(offExecuting + time.Second), CompletionTime: atp(offExecuting + 4*time.Second),
		Message: "applied: memory of container app raised to 512Mi (limit 512Mi)", DryRunResult: dryRunDiff, AppliedTime: atp(offExecuting + 2*time.Second),
		Rollback: &kev1.RollbackInfo{Available: true, PreviousState: `{"app":{"requests":{"memory":"128Mi"},"limits":{"memory":"256Mi"}}}`},
	}
}

func notification(rr *remediationv1.RemediationRequest, name string, typ notificationv1.Type, phase notificationv1.Phase, attempts ...notificationv1.DeliveryAttempt) *notificationv1.NotificationRequest {
	rr.Status.NotificationRequestRefs = append(rr.Status.NotificationRequestRefs, ref(rr.Namespace, name))
	nr := &notificationv1.NotificationRequest{
		ObjectMeta: metav1.ObjectMeta{Namespace: rr.Namespace, Name: name},
		Spec: notificationv1.NotificationRequestSpec{
			RemediationRequestRef: ptr.To(ref(rr.Namespace, rr.Name)), Type: typ, Subject: string(typ) + " " + rr.Name, Body: "body",
			Priority: notificationv1.PriorityHigh, Channels: []notificationv1.Channel{notificationv1.ChannelSlack, notificationv1.ChannelConsole},
		},
		Status: notificationv1.NotificationRequestStatus{Phase: phase, DeliveryAttempts: attempts},
	}
	if phase == notificationv1.PhaseSent && len(attempts) > 0 {
		nr.Status.SentAt = &attempts[len(attempts)-1].Time
	}
	return nr
}

func delivered(ch notificationv1.Channel, n int32, d time.Duration) notificationv1.DeliveryAttempt {
	return notificationv1.DeliveryAttempt{Channel: ch, Attempt: n, Time: at(d), Status: notificationv1.DeliverySuccess}
}

func failedAttempt(ch notificationv1.Channel, n int32, d time.Duration, msg string) notificationv1.DeliveryAttempt {
	return notificationv1.DeliveryAttempt{Channel: ch, Attempt: n, Time: at(d), Status: notificationv1.DeliveryFailed, Error: msg}
}

// phaseFixtures returns one request per phase in ns, with the children that phase implies.
// The names are the phases in lower case, prefixed "rr-".
func phaseFixtures(ns string) *world {
	w := &world{}
	name := func(p remediationv1.Phase) string { return "rr-" + strings.ToLower(string(p)) }

	// Pending: received, nothing started.
	{
		rr := request(ns, name(remediationv1.PhasePending), remediationv1.PhasePending, 0, 0)
		rr.Spec.ReceivedTime = at(29 * time.Minute)
		rr.Status.PhaseStartTime = atp(29 * time.Minute)
		rr.Status.Audit = remediationv1.AuditStatus{Pending: true, Sequence: 1, PendingPhases: []remediationv1.AuditPendingPhase{{Phase: remediationv1.PhasePending, Sequence: 1, Time: at(29 * time.Minute)}}}
		w.add(rr)
	}
	// Processing: enrichment under way.
	{
		rr := request(ns, name(remediationv1.PhaseProcessing), remediationv1.PhaseProcessing, offProcessing, 1)
		rp := processing(rr, processingv1.PhaseEnriching)
		rr.Status.Audit = remediationv1.AuditStatus{LastAcknowledgedPhase: remediationv1.PhaseProcessing, Sequence: 2}
		w.add(rr, rp)
	}
	// Analyzing: investigation under way.
	{
		rr := request(ns, name(remediationv1.PhaseAnalyzing), remediationv1.PhaseAnalyzing, offAnalyzing, 2)
		rp := processing(rr, processingv1.PhaseCompleted)
		aia := analysis(rr, aiv1.PhaseInvestigating, "")
		rr.Status.Audit = remediationv1.AuditStatus{LastAcknowledgedPhase: remediationv1.PhaseAnalyzing, Sequence: 3}
		w.add(rr, rp, aia)
	}
	// AwaitingApproval: a decision is pending (required within 10 more minutes).
	{
		rr := request(ns, name(remediationv1.PhaseAwaitingApproval), remediationv1.PhaseAwaitingApproval, offApproval, 3)
		rp := processing(rr, processingv1.PhaseCompleted)
		arName := rr.Name + "-decision" // any name: the plugin follows the AIAnalysis's reference
		aia := analysis(rr, aiv1.PhaseApproving, arName)
		ar := approvalRequest(rr, arName, metav1.NewTime(fixedNow.Add(10*time.Minute)))
		nr := notification(rr, rr.Name+"-approval", notificationv1.TypeApproval, notificationv1.PhaseSent,
			delivered(notificationv1.ChannelConsole, 1, offApproval+time.Second), delivered(notificationv1.ChannelSlack, 1, offApproval+2*time.Second))
		rr.Status.Audit = remediationv1.AuditStatus{LastAcknowledgedPhase: remediationv1.PhaseAwaitingApproval, Sequence: 4}
		w.add(rr, rp, aia, ar, nr)
	}
	// Planning: auto-approved, workflow being planned.
	{
		rr := request(ns, name(remediationv1.PhasePlanning), remediationv1.PhasePlanning, offPlanning, 0)
		rp := processing(rr, processingv1.PhaseCompleted)
		aia := analysis(rr, aiv1.PhaseCompleted, "")
		wfe := workflow(rr, workflowv1.PhaseValidating)
		rr.Status.Audit = remediationv1.AuditStatus{LastAcknowledgedPhase: remediationv1.PhaseAnalyzing, Pending: true, Sequence: 4,
			PendingPhases: []remediationv1.AuditPendingPhase{{Phase: remediationv1.PhasePlanning, Sequence: 4, Time: at(offPlanning)}}}
		w.add(rr, rp, aia, wfe)
	}
	// Executing: first operation done (with its dry-run diff), the second running.
	{
		rr := request(ns, name(remediationv1.PhaseExecuting), remediationv1.PhaseExecuting, offExecuting, 1)
		rp := processing(rr, processingv1.PhaseCompleted)
		aia := analysis(rr, aiv1.PhaseCompleted, "")
		wfe := workflow(rr, workflowv1.PhaseCompleted)
		ke := execution(rr, kev1.PhaseExecuting, raised(), kev1.OperationResult{Name: "restart", Phase: kev1.OperationRunning, StartTime: atp(offExecuting + 5*time.Second)})
		rr.Status.Audit = remediationv1.AuditStatus{LastAcknowledgedPhase: remediationv1.PhaseExecuting, Sequence: 5}
		w.add(rr, rp, aia, wfe, ke)
	}
	// Verifying: operations done, gathering evidence; the alert was re-sent (not a re-fire), the
	// new pods are still starting.
	{
		rr := request(ns, name(remediationv1.PhaseVerifying), remediationv1.PhaseVerifying, offVerifying, 1)
		rp := processing(rr, processingv1.PhaseCompleted)
		aia := analysis(rr, aiv1.PhaseCompleted, "")
		wfe := workflow(rr, workflowv1.PhaseCompleted)
		ke := execution(rr, kev1.PhaseCompleted, raised(), kev1.OperationResult{Name: "restart", Phase: kev1.OperationSucceeded,
			StartTime: atp(offExecuting + 5*time.Second), CompletionTime: atp(offExecuting + 25*time.Second), Message: "rollout restarted"})
		rr.Status.VerificationBaseline = ptr.To[int32](1)
		rr.Status.Verification = &remediationv1.Verification{ChangeTime: atp(offExecuting + 25*time.Second), Window: &metav1.Duration{Duration: 15 * time.Minute},
			Checks: []remediationv1.VerificationCheck{
				{Name: "alert-refired", Source: "signal", Result: remediationv1.VerificationPassed, Time: at(offVerifying + 30*time.Second),
					Observed: "re-sent 1 time(s) since the change with its original startsAt (last at 2026-03-01T12:04:50Z): the same firing alert, not a re-fire"},
				{Name: "alert-resolved", Source: "signal", Result: remediationv1.VerificationUnknown, Time: at(offVerifying), Observed: "no resolved notification received"},
				{Name: "rollout-complete", Source: "cluster", Result: remediationv1.VerificationPassed, Time: at(offVerifying + 10*time.Second), Observed: "rollout complete: 3/3 available, 3 updated, 3 in total"},
				{Name: "pods-healthy", Source: "cluster", Result: remediationv1.VerificationUnknown, Time: at(offVerifying), Observed: "2 of 3 pod(s) of the current revision of Deployment/shop/web running and ready"},
			}}
		rr.Status.Audit = remediationv1.AuditStatus{LastAcknowledgedPhase: remediationv1.PhaseVerifying, Sequence: 6}
		w.add(rr, rp, aia, wfe, ke)
	}
	// Completed: approved by alice; datastorage is behind (audit pending with an error).
	{
		rr := request(ns, name(remediationv1.PhaseCompleted), remediationv1.PhaseCompleted, offDone, 2)
		rr.Status.Outcome = remediationv1.OutcomeRemediated
		rr.Status.CompletionTime = atp(offDone)
		rr.Status.SignalResolvedAt = atp(8 * time.Minute)
		rr.Status.Verification = &remediationv1.Verification{ChangeTime: atp(offExecuting + 25*time.Second), Window: &metav1.Duration{Duration: 15 * time.Minute},
			Conclusion: "the alert resolved after the change and the cluster checks passed (rollout-complete, pods-healthy)",
			Checks: []remediationv1.VerificationCheck{
				{Name: "alert-refired", Source: "signal", Result: remediationv1.VerificationPassed, Time: at(offVerifying), Observed: "no firing notification with a startsAt after the change"},
				{Name: "alert-resolved", Source: "signal", Result: remediationv1.VerificationPassed, Time: at(offDone), Observed: "the alert resolved at 2026-03-01T12:08:00Z, 2m35s after the change"},
				{Name: "rollout-complete", Source: "cluster", Result: remediationv1.VerificationPassed, Time: at(offVerifying), Observed: "rollout complete: 3/3 available, 3 updated, 3 in total"},
				{Name: "pods-healthy", Source: "cluster", Result: remediationv1.VerificationPassed, Time: at(offVerifying), Observed: "3 pod(s) of the current revision of Deployment/shop/web running and ready, none restarted since the change"},
			}}
		rp := processing(rr, processingv1.PhaseCompleted)
		arName := rr.Name + "-decision"
		aia := analysis(rr, aiv1.PhaseCompleted, arName)
		aia.Status.Approval.Decision, aia.Status.Approval.DecidedBy, aia.Status.Approval.DecidedAt = aiv1.DecisionApproved, "alice", atp(offPlanning)
		ar := approvalRequest(rr, arName, at(offApproval+15*time.Minute))
		ar.Status = aiv1.AIApprovalRequestStatus{Phase: aiv1.ApprovalPhaseApproved, Decision: aiv1.DecisionApproved, DecidedBy: "alice", DecidedAt: atp(offPlanning), Message: "checked the dashboard"}
		wfe := workflow(rr, workflowv1.PhaseCompleted)
		ke := execution(rr, kev1.PhaseCompleted, raised(), kev1.OperationResult{Name: "restart", Phase: kev1.OperationSucceeded,
			StartTime: atp(offExecuting + 5*time.Second), CompletionTime: atp(offExecuting + 25*time.Second), Message: "rollout restarted"})
		approval := notification(rr, rr.Name+"-approval", notificationv1.TypeApproval, notificationv1.PhaseSent, delivered(notificationv1.ChannelSlack, 1, offApproval+time.Second), delivered(notificationv1.ChannelConsole, 1, offApproval+time.Second))
		done := notification(rr, rr.Name+"-completion", notificationv1.TypeCompletion, notificationv1.PhaseSent,
			failedAttempt(notificationv1.ChannelSlack, 1, offDone+time.Second, "slack: 503 Service Unavailable"), delivered(notificationv1.ChannelSlack, 2, offDone+31*time.Second), delivered(notificationv1.ChannelConsole, 1, offDone+time.Second))
		rr.Status.Audit = remediationv1.AuditStatus{LastAcknowledgedPhase: remediationv1.PhaseAnalyzing, Pending: true, Attempts: 3, LastError: "POST /api/v1/audit/remediation: connection refused", Sequence: 8,
			PendingPhases: []remediationv1.AuditPendingPhase{
				{Phase: remediationv1.PhaseAwaitingApproval, Sequence: 4, Time: at(offApproval)},
				{Phase: remediationv1.PhasePlanning, Sequence: 5, Time: at(offPlanning)},
				{Phase: remediationv1.PhaseExecuting, Sequence: 6, Time: at(offExecuting)},
				{Phase: remediationv1.PhaseVerifying, Sequence: 7, Time: at(offVerifying)},
				{Phase: remediationv1.PhaseCompleted, Sequence: 8, Time: at(offDone)},
			}}
		rr.Status.Conditions = []metav1.Condition{
			cond(remediationv1.ConditionReady, metav1.ConditionTrue, remediationv1.ReasonRemediated, "remediated", at(offDone)),
			cond(remediationv1.ConditionAudited, metav1.ConditionFalse, remediationv1.ReasonAuditPending, "5 phase changes not acknowledged", at(offApproval)),
		}
		w.add(rr, rp, aia, ar, wfe, ke, approval, done)
	}
	// Failed: the execution failed and rolled back; escalated, the escalation's delivery failed.
	{
		rr := request(ns, name(remediationv1.PhaseFailed), remediationv1.PhaseFailed, offVerifying, 1)
		rr.Status.CompletionTime = atp(offVerifying)
		rr.Status.FailedPhase = remediationv1.PhaseExecuting
		rr.Status.FailureReason = "KubernetesExecution rr-failed-execution failed: operation restart: deployments.apps \"web\" is forbidden"
		rp := processing(rr, processingv1.PhaseCompleted)
		aia := analysis(rr, aiv1.PhaseCompleted, "")
		aia.Status.Provider, aia.Status.TokensUsed = "holmesgpt", 1834
		aia.Status.Refusals = []aiv1.GuardrailRefusal{{Attempt: 1, Reason: aiv1.RefusalUnknownAction, Action: "kubectl_exec", Target: "Pod/shop/web-7d9f8-abcde", Message: "kubectl_exec is not a catalog action"}}
		wfe := workflow(rr, workflowv1.PhaseCompleted)
		rb := raised()
		rb.Phase = kev1.OperationRolledBack
		rb.Message = "rolled back: memory of container app restored to 256Mi"
		ke := execution(rr, kev1.PhaseRolledBack, rb, kev1.OperationResult{Name: "restart", Phase: kev1.OperationFailed,
			StartTime: atp(offExecuting + 5*time.Second), CompletionTime: atp(offExecuting + 6*time.Second), Message: `deployments.apps "web" is forbidden`, Reason: kev1.ReasonOperationFailed})
		esc := rr.Name + "-escalation-executing"
		rr.Status.Escalations = []remediationv1.EscalationRecord{{Phase: string(remediationv1.PhaseExecuting), Reason: "failure", Time: at(offVerifying + time.Second), NotificationName: esc}}
		nr := &notificationv1.NotificationRequest{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: esc},
			Spec: notificationv1.NotificationRequestSpec{Type: notificationv1.TypeEscalation, Subject: "Escalation", Body: "body",
				Priority: notificationv1.PriorityCritical, Channels: []notificationv1.Channel{notificationv1.ChannelPagerDuty}},
			Status: notificationv1.NotificationRequestStatus{Phase: notificationv1.PhaseFailed, DeliveryAttempts: []notificationv1.DeliveryAttempt{
				failedAttempt(notificationv1.ChannelPagerDuty, 1, offVerifying+2*time.Second, "pagerduty: 400 Invalid routing key"),
			}},
		}
		nr.Status.DeliveryAttempts[0].Permanent = true
		rr.Status.Audit = remediationv1.AuditStatus{LastAcknowledgedPhase: remediationv1.PhaseFailed, Sequence: 7}
		rr.Status.Conditions = []metav1.Condition{cond(remediationv1.ConditionReady, metav1.ConditionFalse, remediationv1.ReasonChildFailed, "the execution failed", at(offVerifying))}
		w.add(rr, rp, aia, wfe, ke, nr)
	}
	// TimedOut: processing never finished.
	{
		rr := request(ns, name(remediationv1.PhaseTimedOut), remediationv1.PhaseTimedOut, 5*time.Minute+offProcessing, 4)
		rr.Status.CompletionTime = atp(5*time.Minute + offProcessing)
		rr.Status.TimeoutPhase = remediationv1.PhaseProcessing
		rp := processing(rr, processingv1.PhaseEnriching)
		rr.Status.Escalations = []remediationv1.EscalationRecord{{Phase: string(remediationv1.PhaseProcessing), Reason: "timeout", Time: at(5*time.Minute + 2*time.Second)}}
		rr.Status.Audit = remediationv1.AuditStatus{LastAcknowledgedPhase: remediationv1.PhaseTimedOut, Sequence: 3}
		w.add(rr, rp)
	}
	// Blocked: too many remediations of the same target.
	{
		rr := request(ns, name(remediationv1.PhaseBlocked), remediationv1.PhaseBlocked, offProcessing, 0)
		rr.Status.Message = "3 consecutive failed remediations of Deployment shop/web; blocked for 1h"
		rr.Status.StartTime = nil
		rr.Status.Audit = remediationv1.AuditStatus{LastAcknowledgedPhase: remediationv1.PhaseBlocked, Sequence: 2}
		w.add(rr)
	}
	// Skipped: the analysis found nothing to do.
	{
		rr := request(ns, name(remediationv1.PhaseSkipped), remediationv1.PhaseSkipped, offPlanning, 0)
		rr.Status.Outcome = remediationv1.OutcomeNoActionRequired
		rr.Status.CompletionTime = atp(offPlanning)
		rr.Status.Message = "the analysis found no action required"
		rp := processing(rr, processingv1.PhaseCompleted)
		aia := analysis(rr, aiv1.PhaseCompleted, "")
		aia.Status.Recommendations = nil
		aia.Status.Outcome = aiv1.OutcomeNoActionRequired
		aia.Status.RiskLevel = ""
		aia.Status.RootCause = "The pods recovered on their own; the limit is adequate."
		rr.Status.Audit = remediationv1.AuditStatus{LastAcknowledgedPhase: remediationv1.PhaseSkipped, Sequence: 4}
		w.add(rr, rp, aia)
	}
	return w
}
