package integration_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	testchain "github.com/kubernaut/kubernaut/internal/testutil/chain"
	"github.com/kubernaut/kubernaut/internal/testutil/fixture"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
)

// The meeting of the workflow service and the executor, on the OOM path: the aianalysis builtin
// investigator's real recommendation for an OOMKilled Deployment, planned and validated by the
// real workflow controller (checking the executor's real RBAC), its operations copied into a
// KubernetesExecution exactly as the orchestrator's buildExecution does, and run by the
// executor under its generated RBAC. The executor's server dry-run shows the same field changes
// the workflow's dry-run showed for approval, and the Deployment ends with them.
func TestMeetingWorkflowOperationsRunByTheExecutor(t *testing.T) {
	ctx := context.Background()
	h := testchain.New(t, env, nil)
	d := h.Deployment("web", 2, nil)
	now := time.Now()

	podTarget := fixture.OOMKilledPod(h.App)
	finding, err := investigator.NewBuiltin().Investigate(ctx, fixture.OOMKilledInvestigation(h.App, now))
	require.NoError(t, err)
	require.Equal(t, aiv1.OutcomeActionRecommended, finding.Outcome, finding.RootCause)

	h.StartWorkflow()

	// The request and its analysis, approved by the policy; buildWorkflow: the signal's target,
	// the top recommendation's steps, the seed's config.
	c := h.Request(finding.Recommendations[0].WorkflowSteps...)
	w := h.WorkflowRun(c, podTarget)
	require.NotEmpty(t, w.Status.Operations)

	// buildExecution.
	ke := h.Execute(c, kev1.ExecutionConfig{DryRun: w.Spec.ExecutionConfig.DryRun, SafetyValidation: ptr.To(true), Timeout: &metav1.Duration{Duration: 10 * time.Minute}},
		w.Status.Operations)
	got := runOnWeb(t, h, ke)

	for i, v := range w.Status.ValidationResults {
		res := got.Status.OperationResults[i]
		assert.Equal(t, w.Status.Operations[i].TargetUID, res.TargetUID)
		for _, fc := range v.Diff {
			assert.Contains(t, res.DryRunResult, fc.Path+": "+fc.Before+" → "+fc.After, "the workflow approved a change the executor would not make")
		}
	}
	after := &appsv1.Deployment{}
	require.NoError(t, h.C.Get(ctx, client.ObjectKeyFromObject(d), after))
	for _, fc := range w.Status.ValidationResults[0].Diff {
		t.Logf("approved and made: %s: %s → %s", fc.Path, fc.Before, fc.After)
	}
	req, lim := testchain.Memory(after)
	assert.Equal(t, "192Mi", req)
	assert.Equal(t, "384Mi", lim)
}

// A factor step planned by the workflow and run by the executor: the workflow controller
// dry-runs it against the live Deployment, its operations go into a KubernetesExecution as the
// orchestrator's buildExecution copies them, and the executor, which multiplies the live values
// it reads itself, shows and makes the same change the workflow showed for approval.
func TestMeetingFactorStepRunByTheExecutor(t *testing.T) {
	ctx := context.Background()
	h := testchain.New(t, env, nil)
	d := h.Deployment("web", 2, nil) // memory 128Mi/256Mi, cpu 100m request

	h.StartWorkflow()

	c := h.Request(common.WorkflowStep{Name: "grow", Action: "increase_resources",
		Parameters: map[string]string{"container": "app", "memoryFactor": "1.5", "cpuFactor": "2"}})
	w := h.WorkflowRun(c, common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: h.App, Name: "web"})
	require.Len(t, w.Status.ValidationResults, 1)
	require.Len(t, w.Status.ValidationResults[0].Diff, 3, "%+v", w.Status.ValidationResults[0].Diff)

	ke := h.Execute(c, kev1.ExecutionConfig{SafetyValidation: ptr.To(true), Timeout: &metav1.Duration{Duration: 10 * time.Minute}}, w.Status.Operations)
	got := runOnWeb(t, h, ke)
	res := got.Status.OperationResults[0]
	for _, fc := range w.Status.ValidationResults[0].Diff {
		assert.Contains(t, res.DryRunResult, fc.Path+": "+fc.Before+" → "+fc.After, "the workflow approved a change the executor would not make")
	}
	after := &appsv1.Deployment{}
	require.NoError(t, h.C.Get(ctx, client.ObjectKeyFromObject(d), after))
	r := after.Spec.Template.Spec.Containers[0].Resources
	mr, ml, cr := r.Requests[corev1.ResourceMemory], r.Limits[corev1.ResourceMemory], r.Requests[corev1.ResourceCPU]
	assert.Equal(t, []string{"192Mi", "384Mi", "200m"}, []string{mr.String(), ml.String(), cr.String()})
	assert.Equal(t, d.Generation+1, after.Generation)
}

// runOnWeb starts the executor on ke, acts as the Deployment controller of Deployment web until
// its memory request is no longer 128Mi, and returns the execution, which must have Completed.
func runOnWeb(t *testing.T, h *testchain.Harness, ke *kev1.KubernetesExecution) *kev1.KubernetesExecution {
	t.Helper()
	h.StartExecutor(nil)
	testchain.ActAsDeploymentController(t, h.C, client.ObjectKey{Namespace: h.App, Name: "web"}, func(d *appsv1.Deployment) bool {
		req, _ := testchain.Memory(d)
		return req != "128Mi"
	})
	got := h.Finished(ke)
	require.Equal(t, kev1.PhaseCompleted, got.Status.Phase, "%s %+v", got.Status.Message, got.Status.OperationResults)
	return got
}
