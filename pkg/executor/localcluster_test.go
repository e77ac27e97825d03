package executor_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	testchain "github.com/kubernaut/kubernaut/internal/testutil/chain"
	"github.com/kubernaut/kubernaut/internal/testutil/localcluster"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/executor"
)

// On a cluster whose pods run (controller-manager, scheduler, kwok): a bad release is rolled
// back and the workload scaled, and the executor completes only once the Deployment controller
// rolled the previous template out and its new pods are Running and available. Then a memory
// increase no node can schedule never rolls out, fails its post-condition and is rolled back.
func TestRollbackPostConditionOnALocalCluster(t *testing.T) {
	cl := localcluster.StartT(t, localcluster.Options{Nodes: 2})
	ctx := context.Background()
	lenv := &testenv.Env{Config: cl.Config, Client: cl.Client}
	h := &harness{&testchain.Harness{T: t, C: cl.Client, Env: lenv}}
	h.Sys = lenv.Namespace(t, nil)
	h.App = lenv.Namespace(t, map[string]string{kev1.LabelManaged: "true"})
	h.Cfg = lenv.AsService(t, "executor", h.Sys)

	d := h.Deployment("web", 2, nil)
	rolledOutWith := func(image string, replicas int32) {
		t.Helper()
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			cur := &appsv1.Deployment{}
			require.NoError(c, h.C.Get(ctx, client.ObjectKeyFromObject(d), cur))
			assert.Equal(c, image, cur.Spec.Template.Spec.Containers[0].Image)
			st := cur.Status
			assert.True(c, st.ObservedGeneration >= cur.Generation && st.UpdatedReplicas == replicas && st.AvailableReplicas == replicas && st.Replicas == replicas,
				"status %+v", st)
			n, err := runningWith(h, image)
			require.NoError(c, err)
			assert.Equal(c, replicas, n)
		}, 2*wait, tick)
	}
	rolledOutWith("registry.example/app:1", 2)
	// The bad release.
	require.NoError(t, h.C.Get(ctx, client.ObjectKeyFromObject(d), d))
	d.Spec.Template.Spec.Containers[0].Image = "registry.example/app:2"
	require.NoError(t, h.C.Update(ctx, d))
	rolledOutWith("registry.example/app:2", 2)

	// Big enough limits for an increase no node can hold; no cooldown between the two executions.
	h.SetSafety(map[string]string{executor.KeyCooldown: "0s", executor.KeyMaxMemory: "1Ti", executor.KeyMaxResourceFactor: "10000"})
	h.StartExecutor(nil)
	ke := h.execution(false,
		op("undo", "rollback_deployment", deploymentTarget(h.App, "web"), nil),
		op("scale", "scale_deployment", deploymentTarget(h.App, "web"), map[string]string{"replicas": "3"}))
	got := h.Finished(ke)
	require.Equal(t, kev1.PhaseCompleted, got.Status.Phase, "%s %+v", got.Status.Message, got.Status.OperationResults)
	// Completed means the controller had already rolled it out: the state holds at once.
	cur := &appsv1.Deployment{}
	require.NoError(t, h.C.Get(ctx, client.ObjectKeyFromObject(d), cur))
	assert.Equal(t, "registry.example/app:1", cur.Spec.Template.Spec.Containers[0].Image)
	assert.Equal(t, int32(3), cur.Status.AvailableReplicas)
	n, err := runningWith(h, "registry.example/app:1")
	require.NoError(t, err)
	assert.Equal(t, int32(3), n)

	// A memory request no node can hold: the new pods stay Pending, the rollout never finishes,
	// the operation fails at its timeout and the change is rolled back.
	grow := op("grow", "increase_resources", deploymentTarget(h.App, "web"), map[string]string{"memory": "200Gi"})
	grow.Timeout = &metav1.Duration{Duration: 5 * time.Second}
	got = h.Finished(h.execution(false, grow))
	require.Equal(t, kev1.PhaseRolledBack, got.Status.Phase, got.Status.Message)
	assert.Equal(t, kev1.ReasonPostCondition, got.Status.OperationResults[0].Reason)
	require.NoError(t, h.C.Get(ctx, client.ObjectKeyFromObject(d), cur))
	req, _ := memory(cur)
	assert.Equal(t, "128Mi", req)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		cur := &appsv1.Deployment{}
		require.NoError(c, h.C.Get(ctx, client.ObjectKeyFromObject(d), cur))
		st := cur.Status
		assert.True(c, st.ObservedGeneration >= cur.Generation && st.UpdatedReplicas == 3 && st.AvailableReplicas == 3 && st.Replicas == 3, "status %+v", st)
	}, 2*wait, tick)
}

// runningWith counts the Running, not terminating pods of the target namespace with image.
func runningWith(h *harness, image string) (int32, error) {
	pods := &corev1.PodList{}
	if err := h.C.List(context.Background(), pods, client.InNamespace(h.App)); err != nil {
		return 0, err
	}
	var n int32
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil && p.Spec.Containers[0].Image == image {
			n++
		}
	}
	return n, nil
}
