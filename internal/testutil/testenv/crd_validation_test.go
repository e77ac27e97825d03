package testenv_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
)

const fp = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func meta(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }

func rrRef(ns string) common.ObjectReference {
	return common.ObjectReference{Name: "rr", Namespace: ns}
}

func target() common.TargetResource {
	return common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
}

func validObjects(ns string) map[string]client.Object {
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	return map[string]client.Object{
		"RemediationRequest": &remediationv1.RemediationRequest{ObjectMeta: meta(ns, "rr"), Spec: remediationv1.RemediationRequestSpec{
			SignalFingerprint: fp, SignalName: "HighMemory", Severity: remediationv1.SeverityCritical,
			Environment: remediationv1.EnvironmentProduction, Priority: remediationv1.PriorityP0,
			SignalType: remediationv1.SignalTypePrometheusAlert, TargetResource: target(), FiringTime: now, ReceivedTime: now,
			OriginalPayload: []byte(`{"status":"firing"}`),
			Timeouts:        &remediationv1.Timeouts{Processing: &metav1.Duration{Duration: time.Minute}},
		}},
		"RemediationProcessing": &processingv1.RemediationProcessing{ObjectMeta: meta(ns, "rr-processing"), Spec: processingv1.RemediationProcessingSpec{
			RemediationRequestRef: rrRef(ns),
			Alert:                 processingv1.Alert{Fingerprint: fp, Severity: "critical", SignalName: "HighMemory", TargetResource: target()},
		}},
		"AIAnalysis": &aiv1.AIAnalysis{ObjectMeta: meta(ns, "rr-analysis"), Spec: aiv1.AIAnalysisSpec{
			RemediationRequestRef: rrRef(ns),
			AnalysisRequest: aiv1.AnalysisRequest{
				AlertContext:  aiv1.SignalContext{Fingerprint: fp, Severity: "critical", Environment: "production", BusinessPriority: "P0", ResourceKind: "Deployment", ResourceName: "web"},
				AnalysisTypes: []aiv1.AnalysisType{"investigation", "root-cause"},
			},
		}},
		"AIApprovalRequest": &aiv1.AIApprovalRequest{ObjectMeta: meta(ns, "rr-analysis-approval"), Spec: aiv1.AIApprovalRequestSpec{
			AIAnalysisRef: common.ObjectReference{Name: "rr-analysis", Namespace: ns}, RemediationRequestRef: rrRef(ns),
			Recommendation: aiv1.Recommendation{ID: "r1", Action: "scale_deployment", Confidence: 0.7, RiskLevel: aiv1.RiskMedium},
			Confidence:     0.7, Reason: "production", RequiredBy: now,
		}},
		"WorkflowExecution": &workflowv1.WorkflowExecution{ObjectMeta: meta(ns, "rr-workflow"), Spec: workflowv1.WorkflowExecutionSpec{
			RemediationRequestRef: rrRef(ns),
			WorkflowDefinition:    workflowv1.WorkflowDefinition{Steps: []common.WorkflowStep{{Name: "scale", Action: "scale_deployment", Parameters: map[string]string{"replicas": "3"}}}},
		}},
		"KubernetesExecution": &kev1.KubernetesExecution{ObjectMeta: meta(ns, "rr-execution"), Spec: kev1.KubernetesExecutionSpec{
			RemediationRequestRef: rrRef(ns),
			Operations:            []common.Operation{{Name: "scale", Action: "scale_deployment", Target: target(), Parameters: map[string]string{"replicas": "3"}}},
		}},
		"NotificationRequest": &notificationv1.NotificationRequest{ObjectMeta: meta(ns, "rr-approval"), Spec: notificationv1.NotificationRequestSpec{
			Type: notificationv1.TypeApproval, Subject: "Approval Required", Body: "body", Priority: notificationv1.PriorityHigh,
			Channels: []notificationv1.Channel{notificationv1.ChannelSlack, notificationv1.ChannelConsole},
		}},
	}
}

func TestCRDs(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	c := env.Client

	t.Run("every kind can be created and read back with defaults", func(t *testing.T) {
		ns := env.Namespace(t, nil)
		for kind, obj := range validObjects(ns) {
			require.NoError(t, c.Create(ctx, obj), kind)
			got := obj.DeepCopyObject().(client.Object)
			require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(obj), got), kind)
			assert.Equal(t, obj.GetName(), got.GetName(), kind)
		}
		var wfe workflowv1.WorkflowExecution
		require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "rr-workflow"}, &wfe))
		assert.Equal(t, 5*time.Minute, wfe.Spec.ExecutionConfig.StepTimeout.Duration)
		assert.Equal(t, 20*time.Minute, wfe.Spec.ExecutionConfig.WorkflowTimeout.Duration)
		assert.EqualValues(t, 1, wfe.Spec.ExecutionConfig.ConcurrencyLimit)
		var ke kev1.KubernetesExecution
		require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "rr-execution"}, &ke))
		require.NotNil(t, ke.Spec.ExecutionConfig.SafetyValidation)
		assert.True(t, *ke.Spec.ExecutionConfig.SafetyValidation)
		assert.Equal(t, 10*time.Minute, ke.Spec.ExecutionConfig.Timeout.Duration)
		var nr notificationv1.NotificationRequest
		require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "rr-approval"}, &nr))
		assert.EqualValues(t, 5, nr.Spec.RetryPolicy.MaxAttempts)
		assert.Equal(t, 30*time.Second, nr.Spec.RetryPolicy.InitialBackoff.Duration)
		assert.Equal(t, 480*time.Second, nr.Spec.RetryPolicy.MaxBackoff.Duration)
	})

	invalid := map[string]struct {
		mutate  func(objs map[string]client.Object) client.Object
		message string
	}{
		"RemediationRequest bad fingerprint": {func(o map[string]client.Object) client.Object {
			rr := o["RemediationRequest"].(*remediationv1.RemediationRequest)
			rr.Spec.SignalFingerprint = "NOT-HEX"
			return rr
		}, "spec.signalFingerprint"},
		"RemediationRequest unknown severity": {func(o map[string]client.Object) client.Object {
			rr := o["RemediationRequest"].(*remediationv1.RemediationRequest)
			rr.Spec.Severity = "page-me"
			return rr
		}, "spec.severity"},
		"RemediationProcessing unknown severity": {func(o map[string]client.Object) client.Object {
			rp := o["RemediationProcessing"].(*processingv1.RemediationProcessing)
			rp.Spec.Alert.Severity = "urgent"
			return rp
		}, "spec.alert.severity"},
		"AIAnalysis unknown analysis type": {func(o map[string]client.Object) client.Object {
			a := o["AIAnalysis"].(*aiv1.AIAnalysis)
			a.Spec.AnalysisRequest.AnalysisTypes = []aiv1.AnalysisType{"astrology"}
			return a
		}, "spec.analysisRequest.analysisTypes"},
		"AIApprovalRequest confidence out of range": {func(o map[string]client.Object) client.Object {
			a := o["AIApprovalRequest"].(*aiv1.AIApprovalRequest)
			a.Spec.Confidence = 1.5
			return a
		}, "spec.confidence"},
		"WorkflowExecution concurrency out of range": {func(o map[string]client.Object) client.Object {
			w := o["WorkflowExecution"].(*workflowv1.WorkflowExecution)
			w.Spec.ExecutionConfig.ConcurrencyLimit = 50
			return w
		}, "spec.executionConfig.concurrencyLimit"},
		"WorkflowExecution without steps": {func(o map[string]client.Object) client.Object {
			w := o["WorkflowExecution"].(*workflowv1.WorkflowExecution)
			w.Spec.WorkflowDefinition.Steps = nil
			return w
		}, "spec.workflowDefinition.steps"},
		"KubernetesExecution without operations": {func(o map[string]client.Object) client.Object {
			k := o["KubernetesExecution"].(*kev1.KubernetesExecution)
			k.Spec.Operations = nil
			return k
		}, "spec.operations"},
		"NotificationRequest unknown channel": {func(o map[string]client.Object) client.Object {
			n := o["NotificationRequest"].(*notificationv1.NotificationRequest)
			n.Spec.Channels = []notificationv1.Channel{"carrier-pigeon"}
			return n
		}, "spec.channels"},
		"NotificationRequest retry attempts out of range": {func(o map[string]client.Object) client.Object {
			n := o["NotificationRequest"].(*notificationv1.NotificationRequest)
			n.Spec.RetryPolicy.MaxAttempts = 100
			return n
		}, "spec.retryPolicy.maxAttempts"},
	}
	for name, tc := range invalid {
		t.Run("rejects "+name, func(t *testing.T) {
			ns := env.Namespace(t, nil)
			err := c.Create(ctx, tc.mutate(validObjects(ns)))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.message)
		})
	}

	t.Run("RemediationRequest spec is immutable", func(t *testing.T) {
		ns := env.Namespace(t, nil)
		rr := validObjects(ns)["RemediationRequest"].(*remediationv1.RemediationRequest)
		require.NoError(t, c.Create(ctx, rr))
		rr.Spec.Severity = remediationv1.SeverityInfo
		err := c.Update(ctx, rr)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "spec is immutable")
	})

	t.Run("AIApprovalRequest decision cannot change once taken", func(t *testing.T) {
		ns := env.Namespace(t, nil)
		ar := validObjects(ns)["AIApprovalRequest"].(*aiv1.AIApprovalRequest)
		require.NoError(t, c.Create(ctx, ar))
		ar.Status.Decision = aiv1.DecisionApproved
		ar.Status.DecidedBy = "alice"
		require.NoError(t, c.Status().Update(ctx, ar))
		ar.Status.Decision = aiv1.DecisionRejected
		err := c.Status().Update(ctx, ar)
		require.Error(t, err)
		assert.True(t, strings.Contains(err.Error(), "cannot be changed"), err.Error())
	})
}
