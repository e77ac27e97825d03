package integration_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/apistandin"
	"github.com/kubernaut/kubernaut/internal/testutil/approval"
	testchain "github.com/kubernaut/kubernaut/internal/testutil/chain"
	"github.com/kubernaut/kubernaut/internal/testutil/fixture"
	"github.com/kubernaut/kubernaut/internal/testutil/services"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/aianalysis"
	"github.com/kubernaut/kubernaut/pkg/orchestrator"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

// workload creates Deployment ns/name (revision 1) with one pod per status, as the controllers
// and the kubelet would have written them.
func workload(t testing.TB, c client.Client, ns, name, node string, statuses ...corev1.ContainerStatus) {
	t.Helper()
	ctx := context.Background()
	labels := map[string]string{"app": name}
	ctr := corev1.Container{Name: "app", Image: "shop/" + name + ":1.4", Resources: corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")}, Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}}}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To(int32(len(statuses))),
		Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{ctr}}}}}
	require.NoError(t, c.Create(ctx, d))
	rsLabels := map[string]string{"app": name, "pod-template-hash": "r1"}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-r1", Labels: rsLabels,
		Annotations:     map[string]string{"deployment.kubernetes.io/revision": "1"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: ptr.To(true)}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: d.Spec.Replicas, Selector: &metav1.LabelSelector{MatchLabels: rsLabels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: rsLabels}, Spec: corev1.PodSpec{Containers: []corev1.Container{ctr}}}}}
	require.NoError(t, c.Create(ctx, rs))
	for i, st := range statuses {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-r1-%d", name, i), Labels: rsLabels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr.To(true)}}},
			Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{ctr}}}
		require.NoError(t, c.Create(ctx, p))
		p.Status.Phase = corev1.PodRunning
		st.Name, st.Image, st.ImageID = "app", ctr.Image, "sha256:1"
		p.Status.ContainerStatuses = []corev1.ContainerStatus{st}
		require.NoError(t, c.Status().Update(ctx, p))
	}
}

func runningStatus() corev1.ContainerStatus {
	return corev1.ContainerStatus{Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(time.Now().Add(-time.Hour))}}}
}

func oomStatus() corev1.ContainerStatus {
	at := metav1.NewTime(time.Now().Add(-2 * time.Minute).Truncate(time.Second))
	return corev1.ContainerStatus{RestartCount: 4, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: at}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled", StartedAt: metav1.NewTime(at.Add(-time.Minute)), FinishedAt: at}}}
}

// TestMeetingProcessingAnalysisOrchestrator runs the real processing, aianalysis and
// orchestrator services on one API server: processing's real enrichment of an OOMKilled
// Deployment reaches the builtin investigator, and this service's real AIAnalysis status reaches
// the orchestrator, which plans exactly its workflow steps (and reads a manual review as one).
func TestMeetingProcessingAnalysisOrchestrator(t *testing.T) {
	env := testenv.Start(t)
	sys := env.Namespace(t, nil)
	svc := apistandin.New(t)
	services.Processing(t, env, sys, nil)
	startAIAnalysis(t, env, sys)
	startOrchestratorWith(t, env, sys, svc)

	shop := env.Namespace(t, map[string]string{"kubernaut.io/environment": "staging"}) // not gated by default: no person needed
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: shop + "-node"}}
	require.NoError(t, env.Client.Create(context.Background(), node))
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), node) })
	workload(t, env.Client, shop, "web", node.Name, oomStatus(), runningStatus())
	workload(t, env.Client, shop, "api", node.Name, runningStatus(), runningStatus())
	// fn runs a Knative Service's revision: the Revision controls its Deployment (as Knative
	// Serving sets the reference) and would undo a change made to the Deployment.
	workload(t, env.Client, shop, "fn", node.Name, oomStatus())
	fn := &appsv1.Deployment{}
	require.NoError(t, env.Client.Get(context.Background(), client.ObjectKey{Namespace: shop, Name: "fn"}, fn))
	fn.OwnerReferences = []metav1.OwnerReference{{APIVersion: "serving.knative.dev/v1", Kind: "Revision", Name: "fn-00001",
		UID: "5d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6", Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}
	require.NoError(t, env.Client.Update(context.Background(), fn))
	// site is applied from Git by Flux's kustomize-controller, which labels what it applies.
	workload(t, env.Client, shop, "site", node.Name, oomStatus())
	site := &appsv1.Deployment{}
	require.NoError(t, env.Client.Get(context.Background(), client.ObjectKey{Namespace: shop, Name: "site"}, site))
	site.Labels = map[string]string{"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}
	require.NoError(t, env.Client.Update(context.Background(), site))

	createRR := func(name, signal, deployment string) {
		now := metav1.NewTime(time.Now().Truncate(time.Second))
		fp := fmt.Sprintf("%064x", len(name)*7919+len(signal))
		rr := &remediationv1.RemediationRequest{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: sys, Labels: map[string]string{remediationv1.LabelSignalFingerprint: fp[:63]}},
			Spec: remediationv1.RemediationRequestSpec{SignalFingerprint: fp, SignalName: signal, Severity: remediationv1.SeverityCritical,
				Environment: remediationv1.EnvironmentStaging, Priority: remediationv1.PriorityP1, SignalType: remediationv1.SignalTypePrometheusAlert, SignalSource: "alertmanager",
				TargetResource: common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: shop, Name: deployment},
				FiringTime:     now, ReceivedTime: now, SignalLabels: map[string]string{"alertname": signal}, OriginalPayload: []byte(`{"status":"firing"}`)}}
		require.NoError(t, env.Client.Create(context.Background(), rr))
	}
	rrPhase := func(name string, phase remediationv1.Phase) *remediationv1.RemediationRequest {
		rr := &remediationv1.RemediationRequest{}
		ok := assert.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.NoError(c, env.Client.Get(context.Background(), client.ObjectKey{Namespace: sys, Name: name}, rr))
			assert.Equal(c, phase, rr.Status.OverallPhase)
		}, wait, tick, "request %s should reach %s", name, phase)
		if !ok {
			t.Logf("request status: %+v", rr.Status)
			t.FailNow()
		}
		return rr
	}

	// manualReview sends the signal about the Deployment and returns the analysis of a request
	// that ended in manual review with nothing planned.
	manualReview := func(name, signal, deployment string) *aiv1.AIAnalysis {
		t.Helper()
		createRR(name, signal, deployment)
		rr := rrPhase(name, remediationv1.PhaseCompleted)
		assert.Equal(t, remediationv1.OutcomeManualReviewRequired, rr.Status.Outcome)
		a := &aiv1.AIAnalysis{}
		require.NoError(t, env.Client.Get(context.Background(), client.ObjectKey{Namespace: sys, Name: name + "-analysis"}, a))
		assert.Equal(t, aiv1.ReasonManualReviewRequired, testchain.ReadyReason(a))
		assert.False(t, exists(env.Client, sys, name+"-workflow"))
		return a
	}

	t.Run("OOMKilled Deployment: processing's facts → increase_resources → planned as is", func(t *testing.T) {
		createRR("oom", "KubePodOOMKilled", "web")
		rrPhase("oom", remediationv1.PhasePlanning)
		rp := &processingv1.RemediationProcessing{}
		require.NoError(t, env.Client.Get(context.Background(), client.ObjectKey{Namespace: sys, Name: "oom-processing"}, rp))
		a := &aiv1.AIAnalysis{}
		require.NoError(t, env.Client.Get(context.Background(), client.ObjectKey{Namespace: sys, Name: "oom-analysis"}, a))
		assert.Equal(t, rp.Status.EnrichedSignal.KubernetesContext, a.Spec.AnalysisRequest.AlertContext.KubernetesContext, "the analysis read processing's real context")
		assert.Equal(t, aiv1.PhaseCompleted, a.Status.Phase)
		require.NotEmpty(t, a.Status.Recommendations, "root cause: %s", a.Status.RootCause)
		top := a.Status.Recommendations[0]
		assert.Equal(t, "increase_resources", top.Action)
		assert.Equal(t, &common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: shop, Name: "web"}, top.WorkflowSteps[0].Target)
		assert.Equal(t, map[string]string{"container": "app", "memory": "192Mi", "memoryLimit": "384Mi"}, top.WorkflowSteps[0].Parameters)
		wfe := &workflowv1.WorkflowExecution{}
		require.NoError(t, env.Client.Get(context.Background(), client.ObjectKey{Namespace: sys, Name: "oom-workflow"}, wfe))
		if diff := cmp.Diff(top.WorkflowSteps, wfe.Spec.WorkflowDefinition.Steps); diff != "" {
			t.Errorf("the workflow's steps differ from the recommendation's (-analysis +workflow):\n%s", diff)
		}
	})

	t.Run("OOMKilled Deployment another controller controls: processing's owner chain → manual review, nothing planned", func(t *testing.T) {
		a := manualReview("operated", "KubePodOOMKilled", "fn")
		rp := &processingv1.RemediationProcessing{}
		require.NoError(t, env.Client.Get(context.Background(), client.ObjectKey{Namespace: sys, Name: "operated-processing"}, rp))
		assert.Equal(t, []common.TargetResource{{APIVersion: "serving.knative.dev/v1", Kind: "Revision", Namespace: shop, Name: "fn-00001"}},
			rp.Status.EnrichedSignal.KubernetesContext.OwnerChain)
		assert.Contains(t, a.Status.ManualReviewReason, "the fix would be increase_resources on Deployment/"+shop+"/fn, but serving.knative.dev/v1 Revision fn-00001 controls it")
		assert.Contains(t, a.Status.RootCause, "OOMKilled", "the root cause the rule found stays")
	})

	t.Run("OOMKilled Deployment that Flux applies from Git: processing's facts → a person approves, even in staging", func(t *testing.T) {
		createRR("gitops", "KubePodOOMKilled", "site")
		rrPhase("gitops", remediationv1.PhaseAwaitingApproval)
		a := &aiv1.AIAnalysis{}
		require.NoError(t, env.Client.Get(context.Background(), client.ObjectKey{Namespace: sys, Name: "gitops-analysis"}, a))
		assert.Equal(t, &common.GitOpsSource{Tool: "Flux", Kind: "Kustomization", Namespace: "flux-system", Name: "apps"},
			a.Spec.AnalysisRequest.AlertContext.KubernetesContext.Workload.GitOps)
		if assert.NotNil(t, a.Status.Approval) {
			assert.True(t, a.Status.Approval.Required)
			assert.Contains(t, a.Status.Approval.Reason, "Deployment "+shop+"/site is applied from Git by Flux Kustomization flux-system/apps")
		}
		assert.False(t, exists(env.Client, sys, "gitops-workflow"))
	})

	t.Run("healthy Deployment with a latency alert: manual review, nothing planned", func(t *testing.T) {
		a := manualReview("latency", "HighRequestLatency", "api")
		assert.True(t, strings.Contains(a.Status.ManualReviewReason, "2 of 2 pods running and ready"), a.Status.ManualReviewReason)
	})
}

// TestMeetingApproval: this service's Approving status and AIApprovalRequest reach the real
// orchestrator, whose approval notification prints the decision command; alice runs it with
// kubectl through the admission policy, and the request moves on to Planning with the
// recommended steps.
func TestMeetingApproval(t *testing.T) {
	env := testenv.Start(t)
	approval.InstallDecisionPolicy(t, env)
	sys := env.Namespace(t, nil)
	svc := apistandin.New(t)
	startAIAnalysis(t, env, sys)
	services.AIAnalysisPolicy(t, env.Client, sys, "minConfidence: 0.95\n")
	approval.WaitPolicyActive(t, env, sys, approval.AsUser(t, env, "alice"))
	startOrchestratorWith(t, env, sys, svc)
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	fp := strings.Repeat("b", 64)
	rr := &remediationv1.RemediationRequest{ObjectMeta: metav1.ObjectMeta{Name: "rr-1", Namespace: sys, Labels: map[string]string{remediationv1.LabelSignalFingerprint: fp[:63]}},
		Spec: remediationv1.RemediationRequestSpec{SignalFingerprint: fp, SignalName: "KubePodOOMKilled", Severity: remediationv1.SeverityCritical,
			Environment: remediationv1.EnvironmentProduction, Priority: remediationv1.PriorityP0, SignalType: remediationv1.SignalTypePrometheusAlert, SignalSource: "alertmanager",
			TargetResource: common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"},
			FiringTime:     now, ReceivedTime: now, OriginalPayload: []byte(`{"status":"firing"}`)}}
	require.NoError(t, env.Client.Create(context.Background(), rr))
	// Play processing with the context an OOMKilled Deployment has.
	rp := &processingv1.RemediationProcessing{}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.NoError(c, env.Client.Get(context.Background(), client.ObjectKey{Namespace: sys, Name: "rr-1-processing"}, rp))
	}, wait, tick)
	sig := fixture.OOMSignal()
	rp.Status.Phase = processingv1.PhaseCompleted
	rp.Status.EnrichedSignal = &processingv1.EnrichedSignal{Fingerprint: fp, Severity: "critical", Environment: "production", BusinessPriority: "P0",
		Namespace: "shop", ResourceKind: "Deployment", ResourceName: "web", KubernetesContext: sig.KubernetesContext}
	require.NoError(t, env.Client.Status().Update(context.Background(), rp))

	get := func(phase remediationv1.Phase) *remediationv1.RemediationRequest {
		got := &remediationv1.RemediationRequest{}
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.NoError(c, env.Client.Get(context.Background(), client.ObjectKeyFromObject(rr), got))
			assert.Equal(c, phase, got.Status.OverallPhase)
		}, wait, tick)
		return got
	}
	got := get(remediationv1.PhaseAwaitingApproval)
	assert.Contains(t, got.Status.Message, "confidence 0.90 is below 0.95")
	nr := &notificationv1.NotificationRequest{}
	require.NoError(t, env.Client.Get(context.Background(), client.ObjectKey{Namespace: sys, Name: "rr-1-approval"}, nr))
	command := notificationapi.DecisionCommand(sys, "rr-1-analysis-approval", notificationapi.DecisionApproved)
	assert.Contains(t, nr.Spec.Body, command, "the notification names this service's approval request")

	out, err := approval.RunDecisionCommand(t, env, "alice", sys, "rr-1-analysis-approval", notificationapi.DecisionApproved)
	require.NoError(t, err, out)
	get(remediationv1.PhasePlanning)
	a := &aiv1.AIAnalysis{}
	require.NoError(t, env.Client.Get(context.Background(), client.ObjectKey{Namespace: sys, Name: "rr-1-analysis"}, a))
	assert.Equal(t, "alice", a.Status.Approval.DecidedBy)
	wfe := &workflowv1.WorkflowExecution{}
	require.NoError(t, env.Client.Get(context.Background(), client.ObjectKey{Namespace: sys, Name: "rr-1-workflow"}, wfe))
	assert.Empty(t, cmp.Diff(a.Status.Recommendations[0].WorkflowSteps, wfe.Spec.WorkflowDefinition.Steps))
}

func exists(c client.Client, ns, name string) bool {
	return c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &workflowv1.WorkflowExecution{}) == nil
}

// startOrchestratorWith runs the real orchestrator in sys under its own RBAC, with notification and
// datastorage served by svc and a stabilization window longer than any test.
func startOrchestratorWith(t *testing.T, env *testenv.Env, sys string, svc *apistandin.Services) {
	t.Helper()
	services.Orchestrator(t, env, sys, func(r *orchestrator.Reconciler) {
		r.Config.StabilizationWindow = time.Hour
		r.Notifier, r.Audit = notificationapi.NewClient(svc.Srv.URL, ""), auditapi.NewClient(svc.Srv.URL, "")
	})
}

// startAIAnalysis runs the real aianalysis controller in sys (builtin investigator, the
// service's default model name), returning nothing the tests need.
func startAIAnalysis(t *testing.T, env *testenv.Env, sys string) {
	t.Helper()
	services.AIAnalysis(t, env, sys, func(r *aianalysis.Reconciler) { r.Defaults = aiv1.HolmesGPTConfig{Model: "builtin-rules"} })
}
