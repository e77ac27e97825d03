package kubectlplugin

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
)

// Other services fill their status fields over time; describe must print whatever subset exists.
func TestRenderToleratesEmptyFields(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)
	rr := func() *remediationv1.RemediationRequest {
		return &remediationv1.RemediationRequest{ObjectMeta: metav1.ObjectMeta{Name: "rr", Namespace: "kubernaut-system"}}
	}
	cases := map[string]struct {
		r    *Remediation
		want []string
	}{
		"a request with nothing but a name": {
			r:    &Remediation{Request: rr()},
			want: []string{"Name:          rr", "Phase:         -", "(no phase started yet)", "Acknowledged:   nothing yet"},
		},
		"children with empty status": {
			r: &Remediation{
				Request:       rr(),
				Processing:    &processingv1.RemediationProcessing{ObjectMeta: metav1.ObjectMeta{Name: "rr-processing"}},
				Analysis:      &aiv1.AIAnalysis{ObjectMeta: metav1.ObjectMeta{Name: "rr-analysis"}, Status: aiv1.AIAnalysisStatus{Approval: &aiv1.ApprovalStatus{}}},
				Approval:      &aiv1.AIApprovalRequest{ObjectMeta: metav1.ObjectMeta{Name: "rr-ask"}},
				Workflow:      &workflowv1.WorkflowExecution{ObjectMeta: metav1.ObjectMeta{Name: "rr-workflow"}},
				Execution:     &kev1.KubernetesExecution{ObjectMeta: metav1.ObjectMeta{Name: "rr-execution"}, Spec: kev1.KubernetesExecutionSpec{Operations: []common.Operation{{Name: "op"}}}},
				Notifications: []notificationv1.NotificationRequest{{ObjectMeta: metav1.ObjectMeta{Name: "rr-approval"}}},
			},
			want: []string{"Analysis: (AIAnalysis rr-analysis, -)", "Root cause:    -", "Approval: (AIApprovalRequest rr-ask)",
				"Operations: (KubernetesExecution rr-execution, -)", "op:", "Phase:        Pending", "rr-approval"},
		},
		"a context without any facts": {
			r: &Remediation{Request: rr(), Processing: &processingv1.RemediationProcessing{ObjectMeta: metav1.ObjectMeta{Name: "rr-processing"},
				Status: processingv1.RemediationProcessingStatus{EnrichedSignal: &processingv1.EnrichedSignal{KubernetesContext: &common.KubernetesContext{
					Rollout: &common.RolloutHistory{}, Pods: []common.PodSummary{{}}, Nodes: []common.NodeSummary{{}}, HPA: &common.HPASummary{}, PDB: &common.PDBSummary{},
					RecentEvents: []common.EventSummary{{}}, Workload: &common.WorkloadSummary{Containers: []common.ContainerSpecSummary{{}}},
				}}}}},
			want: []string{"Context: (from RemediationProcessing rr-processing)", "Environment:   -, priority -"},
		},
		"a workflow with an invalid step and no operations": {
			r: &Remediation{Request: rr(), Workflow: &workflowv1.WorkflowExecution{ObjectMeta: metav1.ObjectMeta{Name: "rr-workflow"},
				Status: workflowv1.WorkflowExecutionStatus{Phase: workflowv1.PhaseFailed, ValidationResults: []workflowv1.ValidationResult{{Step: "s", Reason: "UnknownAction", Message: "no such action"}}}}},
			want: []string{"Invalid step s (UnknownAction): no such action", "(no operations)"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tc.r.Timeline = timeline(tc.r, metav1.NewTime(now))
			var out bytes.Buffer
			assert.NotPanics(t, func() { renderRemediation(&out, tc.r, now) })
			for _, w := range tc.want {
				assert.Contains(t, out.String(), w)
			}
		})
	}
}

func TestDelivery(t *testing.T) {
	attempt := func(ch notificationv1.Channel, st notificationv1.DeliveryStatus) notificationv1.DeliveryAttempt {
		return notificationv1.DeliveryAttempt{Channel: ch, Status: st}
	}
	cases := map[string]struct {
		channels []notificationv1.Channel
		attempts []notificationv1.DeliveryAttempt
		want     string
	}{
		"nothing to deliver":       {want: "-"},
		"not attempted yet":        {channels: []notificationv1.Channel{"slack"}, want: "slack pending"},
		"delivered first time":     {channels: []notificationv1.Channel{"slack"}, attempts: []notificationv1.DeliveryAttempt{attempt("slack", notificationv1.DeliverySuccess)}, want: "slack ok"},
		"delivered after a retry":  {channels: []notificationv1.Channel{"slack"}, attempts: []notificationv1.DeliveryAttempt{attempt("slack", notificationv1.DeliveryFailed), attempt("slack", notificationv1.DeliverySuccess)}, want: "slack ok after 2 attempts"},
		"failing":                  {channels: []notificationv1.Channel{"email"}, attempts: []notificationv1.DeliveryAttempt{attempt("email", notificationv1.DeliveryFailed), attempt("email", notificationv1.DeliveryFailed)}, want: "email failed×2"},
		"default channels (empty)": {attempts: []notificationv1.DeliveryAttempt{attempt("console", notificationv1.DeliverySuccess)}, want: "console ok"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			n := &notificationv1.NotificationRequest{Spec: notificationv1.NotificationRequestSpec{Channels: tc.channels}, Status: notificationv1.NotificationRequestStatus{DeliveryAttempts: tc.attempts}}
			assert.Equal(t, tc.want, delivery(n))
		})
	}
}

func TestShortDuration(t *testing.T) {
	cases := map[string]struct {
		d    time.Duration
		want string
	}{
		"seconds":           {1500 * time.Millisecond, "2s"},
		"minutes":           {3 * time.Minute, "3m"},
		"minutes, seconds":  {3*time.Minute + 28*time.Second, "3m28s"},
		"beyond 10 minutes": {29 * time.Minute, "29m"},
		"hours":             {26 * time.Hour, "26h"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, shortDuration(tc.d)) })
	}
}
