package chain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
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
	"github.com/kubernaut/kubernaut/internal/testutil/services"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/executor"
	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

// Harness is one test's namespaces, the executor's account, and the chain of objects the
// orchestrator creates before an execution.
type Harness struct {
	T   testing.TB
	C   client.Client
	Env *testenv.Env
	// Sys holds the chain's objects, the KubernetesExecutions and the safety ConfigMap.
	Sys string
	// App holds the targets; it is labelled managed.
	App string
	// Cfg connects as the executor's ServiceAccount in Sys under its generated RBAC.
	Cfg *rest.Config
}

// Chain is what the orchestrator creates around an execution: the RemediationRequest, its
// analysis and its workflow.
type Chain struct {
	RR  *remediationv1.RemediationRequest
	AIA *aiv1.AIAnalysis
	WFE *workflowv1.WorkflowExecution
}

// New creates the test's namespaces and its safety ConfigMap: BaseSafety and safety.
func New(t testing.TB, env *testenv.Env, safety map[string]string) *Harness {
	t.Helper()
	h := &Harness{T: t, C: env.Client, Env: env}
	h.Sys = env.Namespace(t, nil)
	h.App = env.Namespace(t, map[string]string{kev1.LabelManaged: "true"})
	h.Cfg = env.AsService(t, "executor", h.Sys)
	h.SetSafety(safety)
	return h
}

// BaseSafety keeps the change budgets out of the way of the tests about something else (each
// test's executions share one budget); the budget tests set their own.
var BaseSafety = map[string]string{executor.KeyMaxChangesPerNamespace: "1000", executor.KeyMaxChangesPerCluster: "1000"}

// SetSafety creates, or replaces, the safety ConfigMap with BaseSafety and data.
func (h *Harness) SetSafety(data map[string]string) {
	h.T.Helper()
	ctx := context.Background()
	merged := maps.Clone(BaseSafety)
	maps.Copy(merged, data)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: executor.DefaultConfigMapName, Namespace: h.Sys}}
	if err := h.C.Get(ctx, client.ObjectKeyFromObject(cm), cm); err == nil {
		cm.Data = merged
		require.NoError(h.T, h.C.Update(ctx, cm))
		return
	}
	cm.Data = merged
	require.NoError(h.T, h.C.Create(ctx, cm))
}

// StartExecutor runs the executor (under its generated RBAC) until the returned stop is called
// or the test ends.
func (h *Harness) StartExecutor(mutate func(*executor.Reconciler)) (stop func()) {
	h.T.Helper()
	opts := manager.Options{
		Scheme:                 app.NewScheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
		Logger:                 services.Logger(),
	}
	executor.CacheOptions(&opts.Cache, h.Sys, "")
	mgr, err := app.NewManager(h.Cfg, opts)
	require.NoError(h.T, err)
	r := &executor.Reconciler{Namespace: h.Sys, PollInterval: 100 * time.Millisecond}
	if mutate != nil {
		mutate(r)
	}
	require.NoError(h.T, r.SetupWithManager(h.T.Context(), mgr))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = mgr.Start(ctx)
	}()
	var stopped atomic.Bool
	stop = func() {
		if stopped.Swap(true) {
			return
		}
		cancel()
		<-done
	}
	h.T.Cleanup(stop)
	return stop
}

// StartWorkflow runs the workflow service in the system namespace, as its command runs it (its
// own RBAC, checking the executor's permissions), until the test ends.
func (h *Harness) StartWorkflow() {
	h.T.Helper()
	services.Workflow(h.T, h.Env, h.Sys, services.ExecutorUser(h.Sys))
}

var rrCounter atomic.Int64

// Request creates a RemediationRequest and its AIAnalysis, Completed, recommending steps and
// approved by the policy (no approval required), named in the request's status.
func (h *Harness) Request(steps ...common.WorkflowStep) *Chain {
	h.T.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("rr-%d", rrCounter.Add(1))
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	target := common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: h.App, Name: "web"}
	if len(steps) > 0 && steps[0].Target != nil {
		target = *steps[0].Target
	}
	sum := sha256.Sum256([]byte(h.Sys + "/" + name))
	rr := &remediationv1.RemediationRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: h.Sys},
		Spec: remediationv1.RemediationRequestSpec{SignalFingerprint: hex.EncodeToString(sum[:]), SignalName: "KubePodCrashLooping",
			Severity: remediationv1.SeverityWarning, Environment: remediationv1.EnvironmentStaging, Priority: remediationv1.PriorityP2,
			SignalType: remediationv1.SignalTypePrometheusAlert, TargetResource: target, FiringTime: now, ReceivedTime: now},
	}
	require.NoError(h.T, h.C.Create(ctx, rr))
	aia := &aiv1.AIAnalysis{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-analysis", Namespace: h.Sys, OwnerReferences: []metav1.OwnerReference{OwnerRef(rr)}},
		Spec: aiv1.AIAnalysisSpec{RemediationRequestRef: common.ObjectReference{Name: rr.Name, Namespace: h.Sys},
			AnalysisRequest: aiv1.AnalysisRequest{AlertContext: aiv1.SignalContext{Fingerprint: rr.Spec.SignalFingerprint, Severity: "warning",
				Environment: "staging", BusinessPriority: "P2", Namespace: target.Namespace, ResourceKind: target.Kind, ResourceName: target.Name}}},
	}
	require.NoError(h.T, h.C.Create(ctx, aia))
	action := "notify_only"
	if len(steps) > 0 {
		action = steps[0].Action
	}
	aia.Status = aiv1.AIAnalysisStatus{Phase: aiv1.PhaseCompleted, Outcome: aiv1.OutcomeActionRecommended,
		Recommendations: []aiv1.Recommendation{{ID: "r1", Action: action, Confidence: 0.9, RiskLevel: aiv1.RiskLow, WorkflowSteps: steps}},
		Approval:        &aiv1.ApprovalStatus{Required: false}}
	require.NoError(h.T, h.C.Status().Update(ctx, aia))
	rr.Status.OverallPhase = remediationv1.PhaseAnalyzing
	rr.Status.AIAnalysisRef = &common.ObjectReference{Name: aia.Name, Namespace: h.Sys}
	require.NoError(h.T, h.C.Status().Update(ctx, rr))
	return &Chain{RR: rr, AIA: aia}
}

// Validated creates the request's WorkflowExecution, Completed, that planned the analysis's
// steps and validated ops, named in the request's status.
func (h *Harness) Validated(c *Chain, ops []common.Operation) {
	h.T.Helper()
	ctx := context.Background()
	wfe := &workflowv1.WorkflowExecution{
		ObjectMeta: metav1.ObjectMeta{Name: c.RR.Name + "-workflow", Namespace: h.Sys, OwnerReferences: []metav1.OwnerReference{OwnerRef(c.RR)}},
		Spec: workflowv1.WorkflowExecutionSpec{RemediationRequestRef: common.ObjectReference{Name: c.RR.Name, Namespace: h.Sys},
			TargetResource:     &c.RR.Spec.TargetResource,
			WorkflowDefinition: workflowv1.WorkflowDefinition{Steps: c.AIA.Status.Recommendations[0].WorkflowSteps}},
	}
	require.NoError(h.T, h.C.Create(ctx, wfe))
	wfe.Status = workflowv1.WorkflowExecutionStatus{Phase: workflowv1.PhaseCompleted, Operations: ops}
	require.NoError(h.T, h.C.Status().Update(ctx, wfe))
	c.WFE = wfe
	h.Named(c, func(st *remediationv1.RemediationRequestStatus) {
		st.OverallPhase = remediationv1.PhasePlanning
		st.WorkflowExecutionRef = &common.ObjectReference{Name: wfe.Name, Namespace: h.Sys}
	})
}

// WorkflowRun creates the request's WorkflowExecution as the orchestrator's buildWorkflow does
// (the signal's target, the analysis's steps, the seed's config), waits for the real workflow
// service (StartWorkflow) to validate it, and names it in the request's status.
func (h *Harness) WorkflowRun(c *Chain, target common.TargetResource) *workflowv1.WorkflowExecution {
	h.T.Helper()
	w := Workflow(h.Sys, c.RR.Name+"-workflow", c.RR.Name, &target, c.AIA.Status.Recommendations[0].WorkflowSteps...)
	w.OwnerReferences = []metav1.OwnerReference{OwnerRef(c.RR)}
	w = FinishWorkflow(h.T, h.C, w)
	require.Equal(h.T, workflowv1.PhaseCompleted, w.Status.Phase, w.Status.Message)
	c.WFE = w
	h.Named(c, func(st *remediationv1.RemediationRequestStatus) {
		st.OverallPhase = remediationv1.PhasePlanning
		st.WorkflowExecutionRef = &common.ObjectReference{Name: w.Name, Namespace: h.Sys}
	})
	return w
}

// Execute creates the chain's KubernetesExecution of ops with cfg, after naming it in the
// request's status (the orchestrator names it right after creating it; the executor waits
// for that).
func (h *Harness) Execute(c *Chain, cfg kev1.ExecutionConfig, ops []common.Operation) *kev1.KubernetesExecution {
	h.T.Helper()
	h.Named(c, func(st *remediationv1.RemediationRequestStatus) {
		st.OverallPhase = remediationv1.PhaseExecuting
		st.KubernetesExecutionRef = &common.ObjectReference{Name: c.RR.Name + "-execution", Namespace: h.Sys}
	})
	return h.Create(c, cfg, ops)
}

// Create creates the chain's KubernetesExecution of ops with cfg without naming it in the
// request's status.
func (h *Harness) Create(c *Chain, cfg kev1.ExecutionConfig, ops []common.Operation) *kev1.KubernetesExecution {
	h.T.Helper()
	ke := &kev1.KubernetesExecution{
		ObjectMeta: metav1.ObjectMeta{Name: c.RR.Name + "-execution", Namespace: h.Sys, OwnerReferences: []metav1.OwnerReference{OwnerRef(c.RR)}},
		Spec: kev1.KubernetesExecutionSpec{RemediationRequestRef: common.ObjectReference{Name: c.RR.Name, Namespace: h.Sys},
			Operations: ops, ExecutionConfig: cfg},
	}
	require.NoError(h.T, h.C.Create(context.Background(), ke))
	return ke
}

// Named changes the request's status.
func (h *Harness) Named(c *Chain, change func(*remediationv1.RemediationRequestStatus)) {
	h.T.Helper()
	ctx := context.Background()
	require.NoError(h.T, h.C.Get(ctx, client.ObjectKeyFromObject(c.RR), c.RR))
	change(&c.RR.Status)
	require.NoError(h.T, h.C.Status().Update(ctx, c.RR))
}

// OwnerRef is the controller reference the orchestrator puts on the request's children.
func OwnerRef(rr *remediationv1.RemediationRequest) metav1.OwnerReference {
	return *metav1.NewControllerRef(rr, remediationv1.GroupVersion.WithKind("RemediationRequest"))
}

// Finished waits for the execution to reach a final phase and returns it.
func (h *Harness) Finished(ke *kev1.KubernetesExecution) *kev1.KubernetesExecution {
	h.T.Helper()
	got := &kev1.KubernetesExecution{}
	require.EventuallyWithT(h.T, func(c *assert.CollectT) {
		require.NoError(c, h.C.Get(context.Background(), client.ObjectKeyFromObject(ke), got))
		p := got.Status.Phase
		assert.True(c, p == kev1.PhaseCompleted || p == kev1.PhaseFailed || p == kev1.PhaseRolledBack, "phase %q: %s", p, got.Status.Message)
	}, Wait, Tick)
	return got
}

// Deployment creates a Deployment in App with one container "app" (memory 128Mi/256Mi, cpu 100m).
func (h *Harness) Deployment(name string, replicas int32, mutate func(*appsv1.Deployment)) *appsv1.Deployment {
	h.T.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: h.App},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "registry.example/app:1",
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi"), corev1.ResourceCPU: resource.MustParse("100m")},
						Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
					},
				}}},
			},
		},
	}
	if mutate != nil {
		mutate(d)
	}
	require.NoError(h.T, h.C.Create(context.Background(), d))
	return d
}

// ActAsDeploymentController waits until the Deployment key is changed as changed tells, then
// writes the status the Deployment controller writes once the change has rolled out.
func ActAsDeploymentController(t testing.TB, c client.Client, key types.NamespacedName, changed func(*appsv1.Deployment) bool) {
	t.Helper()
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		cur := &appsv1.Deployment{}
		require.NoError(ct, c.Get(context.Background(), key, cur))
		require.True(ct, changed(cur), "not changed yet")
		n := *cur.Spec.Replicas
		cur.Status = appsv1.DeploymentStatus{ObservedGeneration: cur.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n}
		require.NoError(ct, c.Status().Update(context.Background(), cur))
	}, Wait, Tick)
}

// Memory is the memory request and limit of the Deployment's first container.
func Memory(d *appsv1.Deployment) (request, limit string) {
	r := d.Spec.Template.Spec.Containers[0].Resources
	req, lim := r.Requests[corev1.ResourceMemory], r.Limits[corev1.ResourceMemory]
	return req.String(), lim.String()
}
