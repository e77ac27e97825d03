package integration_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/chain"
	testfixture "github.com/kubernaut/kubernaut/internal/testutil/fixture"
	"github.com/kubernaut/kubernaut/internal/testutil/services"
	"github.com/kubernaut/kubernaut/pkg/aianalysis/investigator"
)

// The meeting of three services: the aianalysis builtin investigator's real recommendation for
// an OOMKilled Deployment, put into a WorkflowExecution the way the orchestrator's buildWorkflow
// does, planned and validated by this controller, and its operations copied into a
// KubernetesExecution the way buildExecution does (accepted by the executor's CRD schema).
func TestMeetingAIAnalysisRecommendationToExecution(t *testing.T) {
	f := startWorkflow(t)
	ctx := context.Background()
	d := testfixture.Deployment(f.ns, "web", "128Mi", "256Mi")
	require.NoError(t, f.c.Create(ctx, d))
	now := time.Now()

	podTarget := testfixture.OOMKilledPod(f.ns)
	finding, err := investigator.NewBuiltin().Investigate(ctx, testfixture.OOMKilledInvestigation(f.ns, now))
	require.NoError(t, err)
	require.Equal(t, aiv1.OutcomeActionRecommended, finding.Outcome, finding.RootCause)
	top := finding.Recommendations[0]

	// buildWorkflow: the signal's target, the top recommendation's steps, the seed's config.
	w := chain.FinishWorkflow(t, f.c, chain.Workflow(f.ns, "rr-workflow", "rr-rr-workflow", &podTarget, top.WorkflowSteps...))
	require.Equal(t, workflowv1.PhaseCompleted, w.Status.Phase, w.Status.Message)
	require.Len(t, w.Status.Operations, 1)
	op := w.Status.Operations[0]
	assert.Equal(t, "increase_resources", op.Action)
	assert.Equal(t, common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: f.ns, Name: "web"}, op.Target)
	assert.Equal(t, string(d.UID), op.TargetUID)
	assert.Equal(t, map[string]string{"container": "app", "memory": "192Mi", "memoryLimit": "384Mi"}, op.Parameters)
	assert.Equal(t, []workflowv1.FieldChange{
		{Path: "spec.template.spec.containers[name=app].resources.limits.memory", Before: `"256Mi"`, After: `"384Mi"`},
		{Path: "spec.template.spec.containers[name=app].resources.requests.memory", Before: `"128Mi"`, After: `"192Mi"`},
	}, w.Status.ValidationResults[0].Diff)

	// buildExecution copies the operations; the executor's CRD accepts them as they are.
	ke := &kev1.KubernetesExecution{
		ObjectMeta: metav1.ObjectMeta{Name: "rr-execution", Namespace: f.ns},
		Spec: kev1.KubernetesExecutionSpec{
			RemediationRequestRef: w.Spec.RemediationRequestRef,
			Operations:            w.Status.Operations,
			ExecutionConfig:       kev1.ExecutionConfig{DryRun: w.Spec.ExecutionConfig.DryRun, SafetyValidation: ptr.To(true), Timeout: &metav1.Duration{Duration: 10 * time.Minute}},
		},
	}
	require.NoError(t, f.c.Create(ctx, ke))
	stored := &kev1.KubernetesExecution{}
	require.NoError(t, f.c.Get(ctx, client.ObjectKeyFromObject(ke), stored))
	if diff := cmp.Diff(w.Status.Operations, stored.Spec.Operations); diff != "" {
		t.Errorf("operations as the executor reads them (-workflow +execution):\n%s", diff)
	}
}

// The builtin's cordon-then-drain recommendation for a NotReady Node plans into ordered operations
// on the live Node, the drain after the cordon, with the Node's Pods to evict.
func TestMeetingNodeRecommendation(t *testing.T) {
	f := startWorkflow(t)
	ctx := context.Background()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: f.ns + "-node"}}
	require.NoError(t, f.c.Create(ctx, node))
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), node) })
	require.NoError(t, f.c.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: f.ns},
		Spec: corev1.PodSpec{NodeName: node.Name, Containers: []corev1.Container{{Name: "c", Image: "x"}}}}))
	target := common.TargetResource{APIVersion: "v1", Kind: "Node", Name: node.Name}
	finding, err := investigator.NewBuiltin().Investigate(ctx, investigator.Request{
		Signal: aiv1.SignalContext{Fingerprint: "f", SignalName: "KubeNodeNotReady", Severity: "critical", Environment: "production",
			BusinessPriority: "P0", ResourceKind: "Node", ResourceName: node.Name, KubernetesContext: &common.KubernetesContext{
				CollectedAt: &metav1.Time{Time: time.Now()},
				Nodes:       []common.NodeSummary{{Name: node.Name, Ready: "False", PodCount: 1}},
			}},
		Scope:      aiv1.InvestigationScope{TimeWindow: "1h"},
		Now:        time.Now(),
		AllowDrain: true,
	})
	require.NoError(t, err)
	require.Equal(t, aiv1.OutcomeActionRecommended, finding.Outcome, finding.RootCause)

	w := chain.FinishWorkflow(t, f.c, chain.Workflow(f.ns, "node-workflow", "rr-node-workflow", &target, finding.Recommendations[0].WorkflowSteps...))
	require.Equal(t, workflowv1.PhaseCompleted, w.Status.Phase, w.Status.Message)
	var names []string
	for _, op := range w.Status.Operations {
		names = append(names, op.Action)
		assert.Equal(t, string(node.UID), op.TargetUID)
	}
	assert.Equal(t, []string{"cordon_node", "drain_node"}, names)
	assert.Contains(t, w.Status.ValidationResults[1].Checks[1].Message, "1 Pods to evict ("+f.ns+"/api)")
}

// workflowService is one test's namespace with the workflow service running in it, checking the
// permissions the catalog gives the executor.
type workflowService struct {
	ns string
	c  client.Client
}

func startWorkflow(t *testing.T) *workflowService {
	t.Helper()
	f := &workflowService{ns: env.Namespace(t, nil), c: env.Client}
	services.Workflow(t, env, f.ns, services.ExecutorAccount(t, env, f.ns, nil))
	return f
}
