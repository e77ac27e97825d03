package executor_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/fixture"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
	"github.com/kubernaut/kubernaut/pkg/workflow"
)

// The meeting of the workflow service and the executor, on the OOM path: the aianalysis builtin
// investigator's real recommendation for an OOMKilled Deployment, planned and validated by the
// real workflow controller (checking the executor's real RBAC), its operations copied into a
// KubernetesExecution exactly as the orchestrator's buildExecution does, and run by the
// executor under its generated RBAC. The executor's server dry-run shows the same field changes
// the workflow's dry-run showed for approval, and the Deployment ends with them.
func TestMeetingWorkflowOperationsRunByTheExecutor(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	d := h.deployment("web", 2, nil)
	now := time.Now()

	podTarget := fixture.OOMKilledPod(h.app)
	finding, err := investigator.NewBuiltin().Investigate(ctx, fixture.OOMKilledInvestigation(h.app, now))
	require.NoError(t, err)
	require.Equal(t, aiv1.OutcomeActionRecommended, finding.Outcome, finding.RootCause)

	h.startWorkflow()

	// The request and its analysis, approved by the policy; buildWorkflow: the signal's target,
	// the top recommendation's steps, the seed's config.
	c := h.request(finding.Recommendations[0].WorkflowSteps...)
	w := h.workflowRun(c, podTarget)
	require.NotEmpty(t, w.Status.Operations)

	// buildExecution.
	ke := h.execute(c, kev1.ExecutionConfig{DryRun: w.Spec.ExecutionConfig.DryRun, SafetyValidation: ptr.To(true), Timeout: &metav1.Duration{Duration: 10 * time.Minute}},
		w.Status.Operations)
	h.start(nil)
	actAsDeploymentController(t, key(h.app, "web"), func(d *appsv1.Deployment) bool {
		req, _ := memory(d)
		return req != "128Mi"
	})
	got := h.finished(ke)
	require.Equal(t, kev1.PhaseCompleted, got.Status.Phase, "%s %+v", got.Status.Message, got.Status.OperationResults)

	for i, v := range w.Status.ValidationResults {
		res := got.Status.OperationResults[i]
		assert.Equal(t, w.Status.Operations[i].TargetUID, res.TargetUID)
		for _, fc := range v.Diff {
			assert.Contains(t, res.DryRunResult, fc.Path+": "+fc.Before+" → "+fc.After, "the workflow approved a change the executor would not make")
		}
	}
	after := &appsv1.Deployment{}
	require.NoError(t, h.c.Get(ctx, client.ObjectKeyFromObject(d), after))
	for _, fc := range w.Status.ValidationResults[0].Diff {
		t.Logf("approved and made: %s: %s → %s", fc.Path, fc.Before, fc.After)
	}
	req, lim := memory(after)
	assert.Equal(t, "192Mi", req)
	assert.Equal(t, "384Mi", lim)
}

// workflowRun creates the request's WorkflowExecution as the orchestrator's buildWorkflow does
// (the signal's target, the analysis's steps, the seed's config), waits for the real workflow
// service to validate it, and names it in the request's status.
func (h *harness) workflowRun(c *chain, target common.TargetResource) *workflowv1.WorkflowExecution {
	h.t.Helper()
	ctx := context.Background()
	w := &workflowv1.WorkflowExecution{
		ObjectMeta: metav1.ObjectMeta{Name: c.rr.Name + "-workflow", Namespace: h.sys, OwnerReferences: []metav1.OwnerReference{ownerRef(c.rr)}},
		Spec: workflowv1.WorkflowExecutionSpec{
			RemediationRequestRef: common.ObjectReference{Name: c.rr.Name, Namespace: h.sys},
			TargetResource:        &target,
			WorkflowDefinition:    workflowv1.WorkflowDefinition{Steps: c.aia.Status.Recommendations[0].WorkflowSteps},
			ExecutionConfig: workflowv1.ExecutionConfig{StepTimeout: &metav1.Duration{Duration: 5 * time.Minute},
				WorkflowTimeout: &metav1.Duration{Duration: 20 * time.Minute}, ConcurrencyLimit: 1},
		},
	}
	require.NoError(h.t, h.c.Create(ctx, w))
	require.EventuallyWithT(h.t, func(c *assert.CollectT) {
		require.NoError(c, h.c.Get(ctx, client.ObjectKeyFromObject(w), w))
		assert.True(c, w.Status.Phase.IsTerminal(), "workflow phase %q", w.Status.Phase)
	}, wait, tick)
	require.Equal(h.t, workflowv1.PhaseCompleted, w.Status.Phase, w.Status.Message)
	c.wfe = w
	h.named(c, func(st *remediationv1.RemediationRequestStatus) {
		st.OverallPhase = remediationv1.PhasePlanning
		st.WorkflowExecutionRef = &common.ObjectReference{Name: w.Name, Namespace: h.sys}
	})
	return w
}

// startWorkflow runs the workflow service in the harness's system namespace, as its command runs
// it (its own RBAC, checking the executor's permissions), until the test ends.
func (h *harness) startWorkflow() {
	h.t.Helper()
	opts := manager.Options{Scheme: app.NewScheme(), Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Controller: config.Controller{SkipNameValidation: ptr.To(true)}, Logger: testLogger()}
	workflow.CacheOptions(&opts.Cache, h.sys)
	mgr, err := app.NewManager(env.AsService(h.t, "workflow", h.sys), opts)
	require.NoError(h.t, err)
	require.NoError(h.t, (&workflow.Reconciler{ExecutorServiceAccount: "system:serviceaccount:" + h.sys + ":kubernaut-executor"}).SetupWithManager(h.t.Context(), mgr))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = mgr.Start(ctx) }()
	h.t.Cleanup(func() { cancel(); <-done })
}
