// Package chain builds, in a test's API server, what the orchestrator creates around a
// remediation (the RemediationRequest, its AIAnalysis, WorkflowExecution and
// KubernetesExecution) the way the orchestrator builds them, and waits on them. The executor's
// tests and the cross-service meeting tests in test/integration share it.
package chain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
)

const (
	// Wait is how long a test waits for a controller to act.
	Wait = 30 * time.Second
	// Tick is how often it looks.
	Tick = 50 * time.Millisecond
)

// Workflow is the WorkflowExecution name in ns as the orchestrator's buildWorkflow builds it for
// RemediationRequest rrName: the signal's target, the analysis's steps and the seed's execution
// config.
func Workflow(ns, name, rrName string, target *common.TargetResource, steps ...common.WorkflowStep) *workflowv1.WorkflowExecution {
	return &workflowv1.WorkflowExecution{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: workflowv1.WorkflowExecutionSpec{
			RemediationRequestRef: common.ObjectReference{Name: rrName, Namespace: ns},
			TargetResource:        target,
			WorkflowDefinition:    workflowv1.WorkflowDefinition{Steps: steps},
			ExecutionConfig: workflowv1.ExecutionConfig{
				StepTimeout:      &metav1.Duration{Duration: 5 * time.Minute},
				WorkflowTimeout:  &metav1.Duration{Duration: 20 * time.Minute},
				ConcurrencyLimit: 1,
			},
		},
	}
}

// WaitWorkflow waits until the WorkflowExecution key reaches a final phase and returns it.
func WaitWorkflow(t testing.TB, c client.Client, key client.ObjectKey) *workflowv1.WorkflowExecution {
	t.Helper()
	got := &workflowv1.WorkflowExecution{}
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		assert.NoError(ct, c.Get(context.Background(), key, got))
		assert.True(ct, got.Status.Phase.IsTerminal(), "phase %q: %s", got.Status.Phase, got.Status.Message)
	}, Wait, Tick)
	return got
}

// FinishWorkflow creates w and waits until it reaches a final phase.
func FinishWorkflow(t testing.TB, c client.Client, w *workflowv1.WorkflowExecution) *workflowv1.WorkflowExecution {
	t.Helper()
	require.NoError(t, c.Create(context.Background(), w))
	return WaitWorkflow(t, c, client.ObjectKeyFromObject(w))
}

// Fingerprint is a signal fingerprint (64 hex digits, as the gateway computes them) derived from s.
func Fingerprint(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// ReadyReason is the reason of the analysis's Ready condition ("" without one).
func ReadyReason(a *aiv1.AIAnalysis) string {
	for _, c := range a.Status.Conditions {
		if c.Type == aiv1.ConditionReady {
			return c.Reason
		}
	}
	return ""
}
