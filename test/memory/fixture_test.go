package memory

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
)

// finished creates remediation i in ns as a finished remediation looks in a cluster: the
// RemediationRequest (with payload) in the state the orchestrator leaves it (phase, outcome,
// conditions, audit acknowledged) and, unless bare, its four children and its completion
// NotificationRequest, each with the status its service leaves behind, owned by the request and
// labelled as the orchestrator labels them.
func finished(ctx context.Context, c client.Client, ns string, i int, payload []byte, bare bool) error {
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	fp := fmt.Sprintf("%064x", i)
	name := fmt.Sprintf("remediation-%d", i)
	target := common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: fmt.Sprintf("web-%d", i)}
	labels := map[string]string{"alertname": "HighMemoryUsage", "deployment": target.Name, "namespace": "shop", "severity": "warning", "container": "app"}
	rr := &remediationv1.RemediationRequest{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Labels: map[string]string{remediationv1.LabelSignalFingerprint: fp[:63], remediationv1.LabelSeverity: "warning", remediationv1.LabelEnvironment: "staging"}},
		Spec: remediationv1.RemediationRequestSpec{SignalFingerprint: fp, SignalName: "HighMemoryUsage",
			Severity: "warning", Environment: "staging", Priority: "P2", SignalType: "prometheus-alert",
			TargetResource: target, FiringTime: now, ReceivedTime: now, OriginalPayload: payload,
			SignalLabels: labels, SignalAnnotations: map[string]string{"summary": "memory above 90% for 10m"},
			ProviderData: &remediationv1.ProviderData{Namespace: "shop", Resource: &target, AlertmanagerURL: "http://alertmanager.monitoring:9093"}},
	}
	if err := c.Create(ctx, rr); err != nil {
		return err
	}
	const message = "the signal resolved after the remediation"
	rr.Status = remediationv1.RemediationRequestStatus{OverallPhase: remediationv1.PhaseCompleted,
		Outcome: remediationv1.OutcomeRemediated, StartTime: &now, CompletionTime: &now, Message: message, ObservedGeneration: rr.Generation,
		Audit: remediationv1.AuditStatus{LastAcknowledgedPhase: remediationv1.PhaseCompleted},
		// The conditions exactly as the orchestrator leaves them, so that it has nothing to write.
		Conditions: []metav1.Condition{
			{Type: remediationv1.ConditionReady, Status: metav1.ConditionTrue, Reason: remediationv1.ReasonRemediated, Message: message,
				ObservedGeneration: rr.Generation, LastTransitionTime: now},
			{Type: remediationv1.ConditionAudited, Status: metav1.ConditionTrue, Reason: remediationv1.ReasonAuditAcknowledged,
				Message: "datastorage acknowledged phase Completed", ObservedGeneration: rr.Generation, LastTransitionTime: now},
		}}
	if !bare {
		refs, err := children(ctx, c, rr, now)
		if err != nil {
			return err
		}
		rr.Status.RemediationProcessingRef, rr.Status.AIAnalysisRef = &refs[0], &refs[1]
		rr.Status.WorkflowExecutionRef, rr.Status.KubernetesExecutionRef = &refs[2], &refs[3]
		rr.Status.NotificationRequestRefs = refs[4:]
	}
	return c.Status().Update(ctx, rr)
}

// children creates the finished children of rr and returns their references in the order
// processing, analysis, workflow, execution, completion notification.
func children(ctx context.Context, c client.Client, rr *remediationv1.RemediationRequest, now metav1.Time) ([]common.ObjectReference, error) {
	meta := func(suffix string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: rr.Namespace, Name: rr.Name + suffix,
			Labels:          map[string]string{"kubernaut.io/remediation-request": rr.Name, remediationv1.LabelSignalFingerprint: rr.Spec.SignalFingerprint[:63]},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(rr, remediationv1.GroupVersion.WithKind("RemediationRequest"))}}
	}
	parent := common.ObjectReference{Name: rr.Name, Namespace: rr.Namespace}
	target := rr.Spec.TargetResource
	kctx := &common.KubernetesContext{NamespaceLabels: map[string]string{"kubernaut.io/environment": "staging"},
		Pods: []common.PodSummary{{Name: target.Name + "-7d9f8-abcde", Phase: "Running",
			Containers: []common.ContainerSummary{{Name: "app", RestartCount: 4, LastTerminationReason: "OOMKilled"}}}}}
	step := common.WorkflowStep{Name: "raise-memory", Action: "increase_resources", Parameters: map[string]string{"memory": "512Mi"}}
	op := common.Operation{Name: "raise-memory", Action: "increase_resources", Target: target, Parameters: map[string]string{"memory": "512Mi"}}

	rp := &processingv1.RemediationProcessing{ObjectMeta: meta("-processing"), Spec: processingv1.RemediationProcessingSpec{
		RemediationRequestRef: parent,
		Alert: processingv1.Alert{Fingerprint: rr.Spec.SignalFingerprint, Payload: rr.Spec.OriginalPayload, Severity: "warning",
			SignalName: rr.Spec.SignalName, Environment: "staging", Priority: "P2", Labels: rr.Spec.SignalLabels,
			Annotations: rr.Spec.SignalAnnotations, TargetResource: target}}}
	ai := &aiv1.AIAnalysis{ObjectMeta: meta("-analysis"), Spec: aiv1.AIAnalysisSpec{RemediationRequestRef: parent,
		AnalysisRequest: aiv1.AnalysisRequest{
			AlertContext: aiv1.SignalContext{Fingerprint: rr.Spec.SignalFingerprint, SignalName: rr.Spec.SignalName, Severity: "warning",
				Environment: "staging", BusinessPriority: "P2", Namespace: "shop", ResourceKind: "Deployment", ResourceName: target.Name, KubernetesContext: kctx},
			AnalysisTypes: []aiv1.AnalysisType{"investigation", "root-cause", "recovery-analysis"},
			InvestigationScope: aiv1.InvestigationScope{TimeWindow: "24h", CorrelationDepth: "detailed", IncludeHistoricalPatterns: true,
				ResourceScope: []aiv1.ResourceScopeItem{{Kind: "Deployment", Namespace: "shop", Name: target.Name}}}}}}
	wf := &workflowv1.WorkflowExecution{ObjectMeta: meta("-workflow"), Spec: workflowv1.WorkflowExecutionSpec{RemediationRequestRef: parent,
		TargetResource: &target, WorkflowDefinition: workflowv1.WorkflowDefinition{Steps: []common.WorkflowStep{step}},
		ExecutionConfig: workflowv1.ExecutionConfig{StepTimeout: &metav1.Duration{Duration: 5 * time.Minute},
			WorkflowTimeout: &metav1.Duration{Duration: 20 * time.Minute}, ConcurrencyLimit: 1}}}
	safety := true
	ke := &kev1.KubernetesExecution{ObjectMeta: meta("-execution"), Spec: kev1.KubernetesExecutionSpec{RemediationRequestRef: parent,
		Operations: []common.Operation{op}, ExecutionConfig: kev1.ExecutionConfig{SafetyValidation: &safety, Timeout: &metav1.Duration{Duration: 10 * time.Minute}}}}
	nrMeta := meta("-completion")
	nrMeta.Labels["kubernaut.io/notification-type"] = string(notificationv1.TypeCompletion)
	nr := &notificationv1.NotificationRequest{ObjectMeta: nrMeta, Spec: notificationv1.NotificationRequestSpec{RemediationRequestRef: &parent,
		Type: notificationv1.TypeCompletion, Priority: notificationv1.PriorityLow,
		Subject:  fmt.Sprintf("✅ Remediation remediated: %s on Deployment/%s", rr.Spec.SignalName, target.Name),
		Body:     fmt.Sprintf("Remediation %s of %s (warning, staging, P2) on Deployment/shop/%s ended: Remediated.\nDuration: 4m0s\n", rr.Name, rr.Spec.SignalName, target.Name),
		Channels: []notificationv1.Channel{notificationv1.ChannelSlack, notificationv1.ChannelConsole},
		Metadata: map[string]string{"remediationRequest": rr.Name, "outcome": "Remediated"}}}

	for _, obj := range []client.Object{rp, ai, wf, ke, nr} {
		if err := c.Create(ctx, obj); err != nil {
			return nil, fmt.Errorf("creating %T: %w", obj, err)
		}
	}
	rp.Status = processingv1.RemediationProcessingStatus{Phase: processingv1.PhaseCompleted, StartTime: &now, CompletionTime: &now,
		EnrichedSignal: &processingv1.EnrichedSignal{Fingerprint: rr.Spec.SignalFingerprint, Severity: "warning", Environment: "staging",
			BusinessPriority: "P2", Namespace: "shop", ResourceKind: "Deployment", ResourceName: target.Name, KubernetesContext: kctx}}
	ai.Status = aiv1.AIAnalysisStatus{Phase: aiv1.PhaseCompleted, StartTime: &now, CompletionTime: &now,
		RootCause: "memory limit too low", InvestigationSummary: "the pods are OOMKilled under normal load", Confidence: 0.82,
		Evidence: []string{"4 OOMKilled restarts in 10m", "working set at 98% of the limit"},
		Recommendations: []aiv1.Recommendation{{ID: "rec-1", Action: "increase_resources", Description: "raise the memory limit",
			Confidence: 0.82, RiskLevel: aiv1.RiskMedium, Rationale: "the container was OOMKilled 4 times", WorkflowSteps: []common.WorkflowStep{step}}}}
	wf.Status = workflowv1.WorkflowExecutionStatus{Phase: workflowv1.PhaseCompleted, StartTime: &now, CompletionTime: &now, Operations: []common.Operation{op}}
	ke.Status = kev1.KubernetesExecutionStatus{Phase: kev1.PhaseCompleted, StartTime: &now, CompletionTime: &now, Message: "done",
		OperationResults: []kev1.OperationResult{{Name: "raise-memory", Phase: kev1.OperationSucceeded, Message: "memory limit set to 512Mi"}}}
	nr.Status = notificationv1.NotificationRequestStatus{Phase: notificationv1.PhaseSent, SentAt: &now, CompletionTime: &now, ObservedGeneration: nr.Generation,
		DeliveryAttempts: []notificationv1.DeliveryAttempt{
			{Channel: notificationv1.ChannelSlack, Attempt: 1, Time: now, Status: notificationv1.DeliverySuccess},
			{Channel: notificationv1.ChannelConsole, Attempt: 1, Time: now, Status: notificationv1.DeliverySuccess}}}
	refs := make([]common.ObjectReference, 0, 5)
	for _, obj := range []client.Object{rp, ai, wf, ke, nr} {
		if err := c.Status().Update(ctx, obj); err != nil {
			return nil, fmt.Errorf("finishing %T: %w", obj, err)
		}
		refs = append(refs, common.ObjectReference{Name: obj.GetName(), Namespace: obj.GetNamespace()})
	}
	return refs, nil
}
